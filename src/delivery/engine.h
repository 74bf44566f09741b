// DeliveryEngine: the scheduler and the sender (ARCHITECTURE.md).
//
// Holds a FIFO of ready deliveries per webhook and a timer heap of retries. A dispatcher
// thread serves webhooks round-robin, each under its own in-flight cap (max_in_flight), so a
// slow or dead endpoint only fills its own queue and never holds back healthy ones. Each
// try is signed at send time and handed to the HttpTransport; its outcome goes to the
// StoreWriter (attempt log + delivery state) and, when tries remain, back into the timer
// heap at next_attempt_at from the webhook's RetryPolicy.
//
// Durability: the store, not this object, is the truth. Deliveries are committed before
// they are enqueued here; Start() reloads every pending one, so work in memory at a crash
// (queued, waiting for a retry, or in flight) is tried again after restart with the same
// delivery id (the webhook-id header).
//
// Thread-safe; the dispatcher thread and the transport's loop thread call in.
#pragma once

#include <condition_variable>
#include <deque>
#include <optional>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "delivery/http_transport.h"
#include "delivery/webhook_config.h"
#include "store/store.h"
#include "store/writer.h"

namespace ulak::delivery {

using ConfigPtr = std::shared_ptr<const WebhookConfig>;

struct EngineOptions {
  // Longest the dispatcher sleeps between looks at the clock: retries fire within this of
  // their time, and a ManualClock advanced by a test is noticed within it.
  std::chrono::milliseconds tick{100};
  // Auto-disable: a webhook whose last `auto_disable_failures` deliveries all failed, the
  // first of them at least `auto_disable_after` ago, is disabled. 0 failures: never.
  int auto_disable_failures = 50;
  std::chrono::milliseconds auto_disable_after{std::chrono::hours(72)};
  // Backpressure: beyond this many deliveries held in memory, publishes are refused (429).
  size_t max_pending = 200'000;
  // Shared work (several nodes on one database): this node's id and how long a claim on a
  // delivery lasts. A zero lease means one node owns the whole database (SQLite).
  std::string node_id = {};
  std::chrono::milliseconds lease{0};
  bool SharedWork() const { return lease.count() > 0; }
};

class DeliveryEngine {
 public:
  DeliveryEngine(store::Store& store, store::StoreWriter& writer, HttpTransport& transport, const Clock& clock,
                 Random& random, EngineOptions options = {});
  ~DeliveryEngine();
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Reloads every pending and retrying delivery from the store (on one node; with shared
  // work the Claimer feeds the engine instead), then starts dispatching.
  Status Start();
  const EngineOptions& options() const { return options_; }
  // Stops dispatching. Tries in flight are abandoned, not recorded: they stay pending in
  // the store and run again after restart. Idempotent.
  void Stop();

  // Committed deliveries, each with its webhook's current configuration.
  void Enqueue(std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work);
  // A webhook changed: later tries use `config`. If it is no longer active, its queued and
  // waiting deliveries are dropped from memory (the store cancels them).
  void UpdateWebhook(ConfigPtr config);
  void RemoveWebhook(const std::string& webhook_id);
  // Makes every waiting retry due now (POST /api/webhooks/retry); returns how many.
  int RunDueRetriesNow();
  // True when the backlog in memory passed max_pending: callers should refuse new work.
  bool Overloaded();

  // Called (on the transport's thread, never under the engine's lock) when a webhook must be
  // disabled: a 410 Gone with disable_on_gone, or the auto-disable rule. Set before Start().
  using DisableHandler = std::function<void(const ConfigPtr& config, const std::string& reason)>;
  void SetDisableHandler(DisableHandler handler) { disable_handler_ = std::move(handler); }

  // Sends one delivery at once, outside the queues and caps, with no retries, records the
  // attempt, and calls `done` with it (on the transport's thread).
  void SendNow(ConfigPtr config, store::PendingDelivery work, std::function<void(store::Attempt&&)> done);

  // Deliveries held in memory (queued, waiting or in flight).
  size_t HeldCount();
  // The webhooks this engine holds work for, with the configuration it uses for each.
  std::vector<ConfigPtr> HeldWebhooks();

 private:
  struct Item {
    ConfigPtr config;
    store::PendingDelivery work;
  };
  struct Timed {
    TimePoint due;
    uint64_t seq;  // FIFO among equal times
    std::shared_ptr<Item> item;
    bool operator>(const Timed& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  struct WebhookQueue {
    ConfigPtr config;
    std::deque<std::shared_ptr<Item>> ready;
    int in_flight = 0;
    bool in_ring = false;
    // Token bucket for rate_limit_per_s: refilled continuously, holds at most one second's worth.
    double tokens = 0;
    TimePoint refilled_at;
    std::optional<TimePoint> throttled_until;
  };
  // A webhook's current run of failed deliveries (auto-disable), seeded from the store.
  struct Streak {
    int failures = 0;
    std::optional<TimePoint> first_failure_at;
  };

  void Run();
  // REQUIRES: mu_ held.
  void MakeReadyLocked(std::shared_ptr<Item> item);
  void ScheduleLocked(std::shared_ptr<Item> item, TimePoint due);
  void RingLocked(const std::string& webhook_id, WebhookQueue& q);
  // Signs and sends one try; `done` gets the recorded attempt and whether a retry follows.
  void Launch(std::shared_ptr<Item> item, bool allow_retry, std::function<void(store::Attempt&&, bool retry_later)> done);
  void OnQueuedResult(const std::shared_ptr<Item>& item, store::Attempt&& attempt, bool retry_later);
  store::AttemptOutcome Judge(const Item& item, const TransportResult& result, const std::string& signature,
                              bool allow_retry);
  // Updates the webhook's failure streak with a finished delivery; returns why the webhook
  // must be disabled now, or an empty string.
  std::string TrackStreak(const Item& item, const TransportResult& result, store::AttemptOutcome& outcome);
  // REQUIRES: mu_ held. True when the webhook may send now (takes a token).
  bool TakeTokenLocked(WebhookQueue& q, TimePoint now);

  store::Store& store_;
  store::StoreWriter& writer_;
  HttpTransport& transport_;
  const Clock& clock_;
  Random& random_;
  const EngineOptions options_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::unordered_map<std::string, WebhookQueue> queues_;  // GUARDED_BY(mu_)
  std::deque<std::string> ring_;                          // GUARDED_BY(mu_): webhooks with sendable work
  std::vector<std::string> throttled_;                    // GUARDED_BY(mu_): waiting for a token
  std::unordered_map<std::string, Streak> streaks_;       // GUARDED_BY(mu_)
  std::priority_queue<Timed, std::vector<Timed>, std::greater<>> timers_;  // GUARDED_BY(mu_)
  uint64_t timer_seq_ = 0;                                // GUARDED_BY(mu_)
  size_t held_ = 0;                                       // GUARDED_BY(mu_)
  bool stopping_ = false;                                 // GUARDED_BY(mu_)
  DisableHandler disable_handler_;
  std::thread dispatcher_;
};

}  // namespace ulak::delivery
