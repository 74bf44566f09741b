// Reads one page of rows from a result that selected page.limit + 1 rows, and the LIMIT
// parameter that asks for them.
#pragma once

#include <string>

#include "store/postgres/connection.h"
#include "store/types.h"

namespace ulak::store::postgres {

// SQLite reads a negative LIMIT as "no limit"; PostgreSQL rejects it but reads NULL so.
inline Params& AddLimit(Params& params, int64_t limit) {
  return limit < 0 ? params.AddNull() : params.Add(limit);
}

// The extra row only tells that a next page exists; next_cursor is the last returned id.
template <typename T, typename ReadFn>
Page<T> ReadPage(const PgResult& res, const PageRequest& page, ReadFn read, std::string (*id_of)(const T&)) {
  Page<T> out;
  for (int row = 0; row < res.rows(); ++row) {
    if (static_cast<int>(out.items.size()) == page.limit) {
      if (!out.items.empty()) out.next_cursor = id_of(out.items.back());
      break;
    }
    out.items.push_back(read(res, row));
  }
  return out;
}

template <typename T>
std::vector<T> ReadAll(const PgResult& res, T (*read)(const PgResult&, int)) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(res.rows()));
  for (int row = 0; row < res.rows(); ++row) out.push_back(read(res, row));
  return out;
}

}  // namespace ulak::store::postgres
