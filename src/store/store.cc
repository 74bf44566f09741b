#include "store/store.h"

#include <thread>

namespace ulak::store {

Result<std::vector<PublishResult>> Store::CommitBatch(const std::vector<PublishRequest>& publishes,
                                                     const std::vector<AttemptOutcome>& outcomes) {
  if (!outcomes.empty()) ULAK_RETURN_IF_ERROR(RecordOutcomes(outcomes));
  if (publishes.empty()) return std::vector<PublishResult>();
  return Publish(publishes);
}

bool Store::WaitForWork(std::chrono::milliseconds timeout) {
  std::this_thread::sleep_for(timeout);
  return false;
}

}  // namespace ulak::store
