// DeliveryLoop: the thread where the delivery engine's scheduler lives (ARCHITECTURE.md,
// "Threads"). In production it is the curl transport's io_context (HttpTransport::Loop()),
// so the scheduler and libcurl share one thread; other threads only Post() to it. Tests use
// ManualDeliveryLoop and run it by hand on a ManualClock, without sleeping.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace ulak::delivery {

class DeliveryLoop {
 public:
  virtual ~DeliveryLoop() = default;

  // Thread-safe. Runs `fn` on the loop, after everything posted before it. Returns false
  // when the loop takes no more work (stopped): `fn` is dropped without running.
  virtual bool Post(std::function<void()> fn) = 0;
  // True on the loop's own thread.
  virtual bool InLoop() const = 0;
  // REQUIRES: on the loop. Runs `fn` on the loop once `clock.Now() >= due`; a loop on real
  // time looks at `clock` again at least every `recheck`, so a ManualClock moved by hand is
  // noticed. Not cancellable: `fn` checks whether it is still wanted. A stopped loop drops
  // it without running it. REQUIRES: `clock` outlives the wake-up (until `fn` ran or was
  // dropped); the engine passes a clock its `fn` keeps alive.
  virtual void WakeAt(const Clock& clock, TimePoint due, std::chrono::milliseconds recheck,
                      std::function<void()> fn) = 0;
};

// A loop run by hand (tests, and an engine whose transport has no loop). Its thread is the
// one that constructed it: RunUntilIdle() runs there, and transport callbacks arriving there
// count as on the loop. Post is thread-safe; the rest is for the owning thread only.
class ManualDeliveryLoop final : public DeliveryLoop {
 public:
  ManualDeliveryLoop() : owner_(std::this_thread::get_id()) {}

  bool Post(std::function<void()> fn) override;
  bool InLoop() const override { return std::this_thread::get_id() == owner_; }
  void WakeAt(const Clock& clock, TimePoint due, std::chrono::milliseconds recheck,
              std::function<void()> fn) override;

  // REQUIRES: on the owning thread. Runs posted work and the wake-ups due at their clock's
  // current time, including what those post or schedule, until none is left. Returns how
  // many functions ran.
  size_t RunUntilIdle();

 private:
  struct Wake {
    const Clock* clock;
    TimePoint due;
    std::function<void()> fn;
  };
  const std::thread::id owner_;
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;  // GUARDED_BY(mu_)
  std::vector<Wake> wakes_;                   // owning thread only
};

}  // namespace ulak::delivery
