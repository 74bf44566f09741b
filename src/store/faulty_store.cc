#include "store/faulty_store.h"

namespace ulak::store {
namespace {

// The message each fault carries: what SQLite or libpq says for it.
Status FaultStatus(StoreFault fault) {
  switch (fault) {
    case StoreFault::kDiskFull:
      return Unavailable("injected: database or disk is full");
    case StoreFault::kBusy:
      return Unavailable("injected: database is locked");
    case StoreFault::kIoErrorOnCommit:
      return Unavailable("injected: disk I/O error (COMMIT)");
    case StoreFault::kConnectionLost:
      return Unavailable("injected: server closed the connection unexpectedly");
    case StoreFault::kCommitThenFail:
      return Unavailable("injected: connection lost after COMMIT was sent");
    case StoreFault::kNone:
      break;
  }
  return Status::Ok();
}

}  // namespace

void FaultyStore::Inject(StoreFault fault, int times) {
  std::lock_guard lock(mu_);
  fault_ = times == 0 ? StoreFault::kNone : fault;
  remaining_ = times;
}

std::optional<Status> FaultyStore::Before(bool write) {
  std::lock_guard lock(mu_);
  if (fault_ == StoreFault::kNone || fault_ == StoreFault::kCommitThenFail) return std::nullopt;
  if (!write && fault_ != StoreFault::kConnectionLost) return std::nullopt;
  const Status status = FaultStatus(fault_);
  if (remaining_ > 0 && --remaining_ == 0) fault_ = StoreFault::kNone;
  injected_.fetch_add(1);
  return status;
}

std::optional<Status> FaultyStore::After() {
  std::lock_guard lock(mu_);
  if (fault_ != StoreFault::kCommitThenFail) return std::nullopt;
  const Status status = FaultStatus(fault_);
  if (remaining_ > 0 && --remaining_ == 0) fault_ = StoreFault::kNone;
  injected_.fetch_add(1);
  return status;
}

}  // namespace ulak::store
