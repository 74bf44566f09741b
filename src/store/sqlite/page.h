// Reads one page of rows from a statement that selected page.limit + 1 rows.
#pragma once

#include <string>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/types.h"

namespace ulak::store::sqlite {

// The extra row only tells that a next page exists; next_cursor is the last returned id.
template <typename T, typename ReadFn>
Result<Page<T>> ReadPage(Statement& st, const PageRequest& page, ReadFn read, std::string (*id_of)(const T&)) {
  Page<T> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (static_cast<int>(out.items.size()) == page.limit) {
      out.next_cursor = id_of(out.items.back());
      break;
    }
    out.items.push_back(read(st));
  }
  return out;
}

// Reads every remaining row.
template <typename T>
Result<std::vector<T>> ReadAll(Statement& st, T (*read)(const Statement&)) {
  std::vector<T> out;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(read(st));
  }
  return out;
}

}  // namespace ulak::store::sqlite
