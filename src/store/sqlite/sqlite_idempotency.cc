// SqliteStore: the compact de-duplication key of events written before migration 0013.
#include <string>
#include <utility>
#include <vector>

#include "store/idempotency_key.h"
#include "store/sqlite/sqlite_store.h"

namespace ulak::store::sqlite {

Status SqliteStore::FillIdempotencyKeys(Connection& conn) {
  // A batch per transaction, so a large file does not hold one huge write transaction; the
  // partial index keeps the search for unkeyed events cheap once they are all done.
  constexpr int64_t kBatch = 1000;
  for (;;) {
    WriteTransaction tx(conn);
    ULAK_RETURN_IF_ERROR(tx.Begin());
    ULAK_ASSIGN_OR_RETURN(Statement * pick, conn.Prepare(
        "SELECT id, organization_id, event_id FROM events "
        "WHERE event_id IS NOT NULL AND idempotency_key IS NULL LIMIT ?1"));
    pick->Bind(1, kBatch);
    std::vector<std::pair<std::string, std::string>> keys;  // event id, key
    for (;;) {
      ULAK_ASSIGN_OR_RETURN(bool row, pick->Step());
      if (!row) break;
      keys.emplace_back(pick->ColumnText(0), IdempotencyKey(pick->ColumnText(1), pick->ColumnText(2)));
    }
    pick->Reset();
    for (const auto& [id, key] : keys) {
      ULAK_ASSIGN_OR_RETURN(Statement * set, conn.Prepare("UPDATE events SET idempotency_key = ?2 WHERE id = ?1"));
      set->Bind(1, id).BindBlob(2, key);
      ULAK_RETURN_IF_ERROR(set->Run());
    }
    ULAK_RETURN_IF_ERROR(tx.Commit());
    if (static_cast<int64_t>(keys.size()) < kBatch) return Status::Ok();
  }
}

}  // namespace ulak::store::sqlite
