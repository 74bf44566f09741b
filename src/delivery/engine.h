// DeliveryEngine: the scheduler and the sender (ARCHITECTURE.md).
//
// Holds a FIFO of ready deliveries per webhook and a timer heap of retries. Its scheduler
// pass serves webhooks round-robin, each under its own in-flight cap (max_in_flight), so a
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
// Threads: the scheduler's state (queues, ring, throttled list, timer heap, streaks,
// breakers, buckets, the outcomes of a turn) lives on the delivery loop (delivery_loop.h:
// the curl transport's loop thread, or a ManualDeliveryLoop in tests), with no mutex. The
// public methods are thread-safe: they post to the loop (a batch at a time), read atomics
// (HeldCount, Overloaded) or wait for the loop's answer (HeldWebhooks, RunDueRetriesNow).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <optional>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "delivery/circuit_breaker.h"
#include "delivery/delivery_loop.h"
#include "delivery/failure_streak.h"
#include "delivery/http_transport.h"
#include "delivery/oauth_tokens.h"
#include "delivery/token_bucket.h"
#include "delivery/webhook_config.h"
#include "store/store.h"
#include "store/writer.h"

namespace ulak::delivery {

using ConfigPtr = std::shared_ptr<const WebhookConfig>;

struct EngineOptions {
  // Longest a wake-up on a real loop waits between looks at the clock: a ManualClock
  // advanced by hand (or a system clock that jumped) is noticed within it.
  std::chrono::milliseconds tick{100};
  // Auto-disable: a webhook whose last `auto_disable_failures` deliveries all failed, the
  // first of them at least `auto_disable_after` ago, is disabled. 0 failures: never.
  int auto_disable_failures = 50;
  std::chrono::milliseconds auto_disable_after{std::chrono::hours(72)};
  // Backpressure: beyond this many deliveries held in memory, publishes are refused (429).
  size_t max_pending = 200'000;
  // Memory bounded whatever the backlog: at most this many deliveries held in memory in
  // all, and per webhook. Beyond it a committed delivery stays in the store only (it is
  // durable already); its webhook is marked overflowed and, as its queue drains below half
  // its bound, its next deliveries by due time are paged in from the store (off the loop).
  // A webhook holding nothing may always page in, so dead endpoints filling the bound in
  // all never hold back a healthy one. With shared work the Claimer's claims keep the bound.
  size_t max_held = 100'000;
  size_t max_held_per_webhook = 10'000;
  // Shared work (several nodes on one database): this node's id and how long a claim on a
  // delivery lasts. A zero lease means one node owns the whole database (SQLite).
  std::string node_id = {};
  std::chrono::milliseconds lease{0};
  bool SharedWork() const { return lease.count() > 0; }
  // Circuit breaker for unreachable endpoints: after `breaker_failures` consecutive tries of
  // a webhook end without any response (refused, timed out, DNS, TLS), its queue stops
  // sending and lets one probe through per cooldown, doubling from `breaker_cooldown` up to
  // `breaker_max_cooldown`, until an answer (any status) comes back. Its deliveries wait
  // meanwhile without spending attempts, so a dead endpoint's backlog costs no network,
  // writer or transport time that healthy endpoints need. 0 failures: no breaker.
  int breaker_failures = 10;
  std::chrono::milliseconds breaker_cooldown{1000};
  std::chrono::milliseconds breaker_max_cooldown{60'000};
};

class DeliveryEngine {
 public:
  DeliveryEngine(store::Store& store, store::StoreWriter& writer, HttpTransport& transport, const Clock& clock,
                 Random& random, EngineOptions options = {});
  ~DeliveryEngine();
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Reloads pending and retrying deliveries from the store (on one node; with shared work
  // the Claimer feeds the engine instead) and hands them to the loop, which keeps at most
  // the bound (max_held) and pages the rest in later.
  Status Start();
  const EngineOptions& options() const { return options_; }
  // Stops dispatching. Tries in flight are abandoned, not recorded: they stay pending in
  // the store and run again after restart. Returns once no closure of this engine still
  // queued on the loop will do anything (they only find it stopped), so the engine may then
  // be destroyed while the transport lives on. Idempotent.
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

  // Called (on the delivery loop) when a webhook must be
  // disabled: a 410 Gone with disable_on_gone, or the auto-disable rule. Set before Start().
  using DisableHandler = std::function<void(const ConfigPtr& config, const std::string& reason)>;
  void SetDisableHandler(DisableHandler handler) { disable_handler_ = std::move(handler); }

  // Sends one delivery at once, outside the queues and caps, with no retries, records the
  // attempt, and calls `done` with it (on the delivery loop).
  void SendNow(ConfigPtr config, store::PendingDelivery work, std::function<void(store::Attempt&&)> done);

  // Tests: runs the engine's own ManualDeliveryLoop (a transport without a loop) until
  // nothing is left to do at the clock's current time: every delivery due then has been
  // launched, every completion handled. Lets a test on a manual clock check that nothing
  // was sent, without sleeping. REQUIRES: on the thread that made the engine. On a real
  // loop it only waits for what was posted before it.
  void RunUntilIdleForTest();

  // Deliveries held in memory (queued, waiting or in flight; a batch counts from its post).
  size_t HeldCount();
  // The webhooks this engine holds work for, with the configuration it uses for each.
  std::vector<ConfigPtr> HeldWebhooks();

 private:
  // What the deliveries of one event share, held once however many webhooks it fans out to:
  // a large backlog costs each delivery its id and times, not a copy of its event.
  struct EventShare {
    std::string organization_id;
    std::string event_type;
    std::string event_ref;
    std::shared_ptr<const std::string> payload;
  };
  // One delivery in memory. Waiting ones are held by value in their queue or the timer heap;
  // a try in flight shares its item with the transport's callback.
  struct Item {
    ConfigPtr config;
    std::shared_ptr<const EventShare> event;
    std::string delivery_id;
    int attempts = 0;
    bool probe = false;  // sent while the webhook's breaker was open
    TimePoint next_attempt_at;
  };
  struct Timed {
    TimePoint due;
    uint64_t seq;  // FIFO among equal times
    Item item;
    bool operator>(const Timed& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  struct WebhookQueue {
    ConfigPtr config;
    std::deque<Item> ready;
    int in_flight = 0;
    bool in_ring = false;
    TokenBucket bucket;  // rate_limit_per_s
    // No sends before this time: out of tokens, the breaker's cooldown, or an ordered
    // webhook's head waiting for its retry.
    std::optional<TimePoint> throttled_until;
    CircuitBreaker breaker;  // EngineOptions::breaker_failures; open: one probe at a time
    // Paging (EngineOptions::max_held): the ids held in memory (queued, waiting, in flight),
    // so a page never brings in one twice; `overflowed`: more of its deliveries wait in the
    // store, at or after `cursor` (next_attempt_at, then id); `paging`: a page is being read,
    // and `dropped_while_paging` the earliest due time left in the store meanwhile.
    std::unordered_set<std::string> held_ids;
    bool overflowed = false;
    bool paging = false;
    TimePoint cursor_at{};
    std::string cursor_id;
    std::optional<TimePoint> dropped_while_paging;
    std::unordered_set<std::string> released_while_paging;  // finished while a page was read
    // Ordered (FIFO) webhooks send one at a time.
    int Cap() const { return breaker.open() || config->record.ordered ? 1 : config->record.max_in_flight; }
  };

  // What a finished try tells its caller.
  struct TryResult {
    store::Attempt attempt;
    bool retry_later = false;
    bool unreachable = false;  // no response at all (counts toward the breaker)
  };
  using TryDone = std::function<void(TryResult&&)>;
  // What a shaped try sent, for its attempt log (a plain try sent the event's payload to the
  // webhook's url).
  struct Sent {
    std::string method;
    std::string url;
    std::shared_ptr<const std::string> body;  // the shaped body sent (shared with the request); null: none
  };
  struct ShapedTry;  // one shaped try in progress (engine.cc)

  // Set on the loop by Stop(); every closure the engine leaves on the loop or with the
  // transport holds it and checks it before touching the engine. Atomic because a
  // transport callback off the loop reads it before posting. It is also the clock the
  // engine's wake-ups look at, held by them: once stopped it no longer reads the engine's
  // clock (which may be gone) and says every wake-up is due.
  struct Alive final : Clock {
    explicit Alive(const Clock& c) : clock(c) {}
    TimePoint Now() const override { return stopped ? TimePoint::max() : clock.Now(); }
    std::atomic<bool> stopped{false};
    const Clock& clock;
  };

  // Items for `work`, deliveries of one event sharing one EventShare.
  static std::vector<Item> ToItems(std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work);
  // Thread-safe. Runs `fn` on the loop unless the engine stopped first; false if the loop
  // took no more work.
  bool PostToLoop(std::function<void()> fn);
  // Thread-safe. `fn`'s answer, computed on the loop (at once when called there);
  // `otherwise` when the engine or the loop stopped.
  template <typename T>
  T AskLoop(std::function<T()> fn, T otherwise);
  // Wraps a transport (or token) callback: it runs on the loop (at once when already
  // there), and not at all after Stop().
  template <typename Arg, typename Fn>
  std::function<void(Arg&&)> OnLoop(Fn fn);

  // Everything below: REQUIRES on the loop.
  void EnqueueOnLoop(std::vector<Item> items);
  // Puts a kept item in its queue, the timer heap or (ordered) the queue's tail.
  void Place(Item&& item, TimePoint now);
  // Whether an item committed for `q` is held in memory (counted then) or left in the store
  // (the queue is marked overflowed).
  bool Keep(WebhookQueue& q, const Item& item);
  // A delivery leaves memory: held_ and resident_ uncounted, and its id from its queue's.
  void Release(const Item& item);
  void Uncount(size_t n);
  // Asks the store for the next page of every overflowed webhook that drained below half
  // its bound (read off the loop: the pager thread, or inline on a ManualDeliveryLoop).
  void PageMore();
  void RequestPage(const std::string& webhook_id, WebhookQueue& q);
  void OnPage(const std::string& webhook_id, Result<std::vector<store::PendingDelivery>> page, size_t limit);
  // Runs `job` off the loop (the pager thread), or at once with a ManualDeliveryLoop.
  void RunOffLoop(std::function<void()> job);
  void StopPager();
  void UpdateOnLoop(const ConfigPtr& config);
  void RemoveOnLoop(const std::string& webhook_id);
  int RunDueRetriesOnLoop();
  void StopOnLoop();
  // One scheduler pass: due timers to their queues, refilled buckets back in the ring,
  // round-robin launches, then one wake-up for the next due time.
  void Pass();
  // Asks for a pass in this loop turn's wake (coalesced: at most one queued).
  void KickPass();
  // A wake-up at `due` unless an earlier one is set.
  void WakeAt(TimePoint due);
  void MakeReady(Item&& item);
  void Schedule(Item&& item, TimePoint due);
  Item PopTimer();
  void Ring(const std::string& webhook_id, WebhookQueue& q);
  // Returns the breaker's state to store with the attempt (nullopt: the webhook is no
  // longer held).
  std::optional<store::Webhook::Breaker> TrackBreaker(const Item& item, bool unreachable, TimePoint now);
  // A queue made for a webhook starts from its stored breaker state.
  void SeedBreaker(const std::string& webhook_id, WebhookQueue& q, TimePoint now);
  // Opens, keeps open or closes the webhook's breaker after one of its tries.
  void TrackBreakerOnQueue(const std::string& webhook_id, WebhookQueue& q, const Item& item, bool unreachable,
                           TimePoint now);
  // The webhook's next ready delivery if it may send one now (in-flight cap, rate limit,
  // breaker), counted in flight; else null (out of tokens: now throttled).
  std::shared_ptr<Item> TakeNext(const std::string& webhook_id, WebhookQueue& q, TimePoint now);
  // Launches a queued delivery; its result comes back to OnQueuedResult.
  void LaunchQueued(std::shared_ptr<Item> item);
  // Signs and sends one try; `done` gets the recorded attempt and whether a retry follows.
  void Launch(std::shared_ptr<Item> item, bool allow_retry, TryDone done);
  // Records a finished try and hands it to `done`; `sent` is null for a plain try. `skipped`:
  // the transform returned nil, the delivery ends as skipped without a retry.
  void Finish(const std::shared_ptr<Item>& item, bool allow_retry, const std::string& signature, const Sent* sent,
              const TryDone& done, TransportResult&& result, bool skipped = false);
  // A shaped webhook's try (fields, template, transform): shape, obtain its credential
  // (OAuth), send; on a 401 with an OAuth token, refresh once and send again at once.
  void LaunchShaped(std::shared_ptr<Item> item, bool allow_retry, TryDone done);
  void SendShaped(const std::shared_ptr<ShapedTry>& state, std::string credential, bool may_refresh);
  void WithToken(const std::shared_ptr<ShapedTry>& state, bool may_refresh);
  void OnQueuedResult(Item& item, TryResult&& result);
  // Thread-safe (no loop state).
  store::AttemptOutcome Judge(const Item& item, const TransportResult& result, const std::string& signature,
                              const Sent* sent, bool allow_retry);
  // Updates the webhook's failure streak with a finished delivery; returns why the webhook
  // must be disabled now, or an empty string.
  std::string TrackStreak(const Item& item, const TransportResult& result, store::AttemptOutcome& outcome);
  // Hands finished tries' outcomes to the writer, one batch per transport turn
  // (HttpTransport::AfterCallbacks) instead of one hand-off per try.
  void RecordOutcome(store::AttemptOutcome&& outcome);
  void FlushOutcomes();
  // True when the webhook may send now (takes a token).
  bool TakeToken(WebhookQueue& q, TimePoint now);

  store::Store& store_;
  store::StoreWriter& writer_;
  HttpTransport& transport_;
  const Clock& clock_;
  Random& random_;
  const EngineOptions options_;
  OAuthTokens tokens_;  // CRM access tokens, refreshed through transport_; thread-safe

  // The engine's own loop when the transport has none (null otherwise); loop_ is the one in
  // use, shared with the closures that may outlive the engine.
  std::shared_ptr<ManualDeliveryLoop> own_loop_;
  std::shared_ptr<DeliveryLoop> loop_;
  const std::shared_ptr<Alive> alive_;
  std::atomic<bool> stop_requested_{false};
  // Deliveries held in memory, counted when their batch is posted and uncounted on the loop.
  std::atomic<size_t> held_{0};
  DisableHandler disable_handler_;

  // Lives on the delivery loop, as does everything below (no lock).
  std::unordered_map<std::string, WebhookQueue> queues_;
  std::deque<std::string> ring_;                          // webhooks with sendable work
  std::vector<std::string> throttled_;                    // waiting for a token or a pause
  std::unordered_map<std::string, FailureStreak> streaks_;  // auto-disable, seeded from the store
  std::vector<Timed> timers_;                             // a min-heap on (due, seq)
  uint64_t timer_seq_ = 0;
  bool pass_posted_ = false;          // a Pass is queued on the loop
  std::optional<TimePoint> wake_at_;  // the earliest wake-up asked of the loop
  std::vector<store::AttemptOutcome> outcomes_;  // this transport turn's, not yet handed on
  size_t resident_ = 0;                          // deliveries kept in memory (held_ minus posted batches)
  std::unordered_set<std::string> overflowed_;   // webhooks with deliveries waiting in the store

  // The pager: one thread reading pages from the store (started on the first page).
  std::mutex pager_mu_;
  std::condition_variable pager_wake_;
  std::deque<std::function<void()>> pager_jobs_;  // GUARDED_BY(pager_mu_)
  bool pager_stopping_ = false;                   // GUARDED_BY(pager_mu_)
  std::thread pager_;
};

}  // namespace ulak::delivery
