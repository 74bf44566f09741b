#include "delivery/delivery_loop.h"

#include <utility>

namespace ulak::delivery {

bool ManualDeliveryLoop::Post(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  posted_.push_back(std::move(fn));
  return true;
}

void ManualDeliveryLoop::WakeAt(const Clock& clock, TimePoint due, std::chrono::milliseconds,
                                std::function<void()> fn) {
  wakes_.push_back(Wake{&clock, due, std::move(fn)});
}

size_t ManualDeliveryLoop::RunUntilIdle() {
  size_t ran = 0;
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu_);
      if (!posted_.empty()) {
        fn = std::move(posted_.front());
        posted_.pop_front();
      }
    }
    if (!fn) {
      // The earliest due wake-up, if any is due (in time order, FIFO among equal times).
      size_t best = wakes_.size();
      for (size_t i = 0; i < wakes_.size(); ++i) {
        if (wakes_[i].clock->Now() < wakes_[i].due) continue;
        if (best == wakes_.size() || wakes_[i].due < wakes_[best].due) best = i;
      }
      if (best == wakes_.size()) return ran;
      fn = std::move(wakes_[best].fn);
      wakes_.erase(wakes_.begin() + static_cast<std::ptrdiff_t>(best));
    }
    fn();
    ++ran;
  }
}

}  // namespace ulak::delivery
