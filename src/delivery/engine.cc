#include "delivery/engine.h"

#include <algorithm>
#include <future>

#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/thread_name.h"
#include "delivery/request.h"
#include "delivery/shaped_request.h"
#include "delivery/retry_after.h"

namespace ulak::delivery {
namespace {

constexpr int kRecoveryPageSize = 1000;

bool IsSuccess(const TransportResult& r) { return r.error == TransportError::kNone && r.status >= 200 && r.status < 300; }

// No response at all: the endpoint looks down (its breaker counts these). A blocked address
// or a malformed request is our refusal, not the endpoint's, and an answer of any status
// shows the endpoint is up.
bool IsUnreachable(const TransportResult& r) {
  return r.status == 0 && (r.error == TransportError::kConnect || r.error == TransportError::kTimeout ||
                           r.error == TransportError::kDns || r.error == TransportError::kTls);
}

std::string ErrorMessageFor(const TransportResult& r) {
  if (r.error != TransportError::kNone) return r.error_message;
  if (r.status >= 200 && r.status < 300) return "";
  if (r.status >= 300 && r.status < 400) {
    // Redirects are never followed (the SSRF guard checked only the first address): a
    // failure, naming where the receiver pointed.
    const std::string location = r.location.size() > 512 ? r.location.substr(0, 512) + "..." : r.location;
    return "HTTP " + std::to_string(r.status) + " redirect is not followed" +
           (location.empty() ? std::string(" (no Location)") : " (Location: " + location + ")");
  }
  return "HTTP " + std::to_string(r.status) + " is not a 2xx answer";
}

}  // namespace

DeliveryEngine::DeliveryEngine(store::Store& store, store::StoreWriter& writer, HttpTransport& transport,
                               const Clock& clock, Random& random, EngineOptions options)
    : store_(store),
      writer_(writer),
      transport_(transport),
      clock_(clock),
      random_(random),
      options_(options),
      tokens_(transport, clock),
      alive_(std::make_shared<Alive>(clock)) {
  if (DeliveryLoop* loop = transport.Loop()) {
    loop_ = std::shared_ptr<DeliveryLoop>(std::shared_ptr<void>(), loop);  // the transport owns it
  } else {
    own_loop_ = std::make_shared<ManualDeliveryLoop>();
    loop_ = own_loop_;
  }
}

DeliveryEngine::~DeliveryEngine() { Stop(); }

bool DeliveryEngine::PostToLoop(std::function<void()> fn) {
  return loop_->Post([alive = alive_, fn = std::move(fn)] {
    if (!alive->stopped) fn();
  });
}

template <typename T>
T DeliveryEngine::AskLoop(std::function<T()> fn, T otherwise) {
  if (loop_->InLoop()) return alive_->stopped ? otherwise : fn();
  auto answer = std::make_shared<std::promise<T>>();
  std::future<T> future = answer->get_future();
  if (!PostToLoop([answer, fn = std::move(fn)] { answer->set_value(fn()); })) return otherwise;
  try {
    return future.get();  // a closure dropped unrun (the engine stopped) breaks the promise
  } catch (const std::future_error&) {
    return otherwise;
  }
}

template <typename Arg, typename Fn>
std::function<void(Arg&&)> DeliveryEngine::OnLoop(Fn fn) {
  return [alive = alive_, loop = loop_, fn = std::move(fn)](Arg&& arg) mutable {
    if (alive->stopped) return;
    if (loop->InLoop()) {
      fn(std::move(arg));
      return;
    }
    loop->Post([alive, fn, arg = std::move(arg)]() mutable {
      if (!alive->stopped) fn(std::move(arg));
    });
  };
}

Status DeliveryEngine::Start() {
  if (options_.SharedWork()) return Status::Ok();
  std::unordered_map<std::string, ConfigPtr> configs;
  std::string after;
  size_t recovered = 0;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(std::vector<store::PendingDelivery> page,
                          store_.ListPendingDeliveries(after, kRecoveryPageSize));
    if (page.empty()) break;
    after = page.back().delivery.id;
    std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work;
    for (store::PendingDelivery& p : page) {
      auto it = configs.find(p.delivery.webhook_id);
      if (it == configs.end()) {
        ConfigPtr config;
        Result<store::Webhook> record = store_.GetWebhook("", p.delivery.webhook_id);
        if (record.ok()) {
          Result<ConfigPtr> parsed = ParseWebhookConfig(std::move(record).value());
          if (parsed.ok()) config = *parsed;
        } else if (record.status().code() != ErrorCode::kNotFound) {
          return record.status();
        }
        it = configs.emplace(p.delivery.webhook_id, config).first;
      }
      if (it->second == nullptr || !it->second->record.is_active) continue;  // deleted or disabled
      work.emplace_back(it->second, std::move(p));
    }
    recovered += work.size();
    Enqueue(std::move(work));
    if (static_cast<int>(page.size()) < kRecoveryPageSize) break;
  }
  Log(LogLevel::kInfo, "delivery engine started", {{"recovered_deliveries", static_cast<uint64_t>(recovered)}});
  return Status::Ok();
}

void DeliveryEngine::Stop() {
  if (stop_requested_.exchange(true)) return;
  if (loop_->InLoop()) {
    StopOnLoop();
    StopPager();
    return;
  }
  // A barrier: the loop runs closures in post order, so once this one ran, every closure
  // posted before it has run, and every later one finds the engine stopped.
  std::promise<void> done;
  std::future<void> stopped = done.get_future();
  if (loop_->Post([this, &done] {
        StopOnLoop();
        done.set_value();
      })) {
    stopped.wait();
    StopPager();
    return;
  }
  // The loop takes no more work: its transport is stopping. Closures it accepted before
  // may still be running; its Stop() returns once its loop thread ended.
  alive_->stopped = true;
  transport_.Stop();
  StopPager();
}

void DeliveryEngine::StopOnLoop() {
  FlushOutcomes();  // tries already judged are recorded
  alive_->stopped = true;
}

void DeliveryEngine::RunUntilIdleForTest() {
  if (own_loop_ != nullptr) {
    own_loop_->RunUntilIdle();
    return;
  }
  AskLoop<bool>([] { return true; }, false);
}

std::vector<DeliveryEngine::Item> DeliveryEngine::ToItems(
    std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work) {
  std::vector<Item> items;
  items.reserve(work.size());
  std::shared_ptr<const EventShare> event;
  const std::string* event_id = nullptr;
  for (auto& [config, pending] : work) {
    // A publish hands over its whole fan-out at once and recovery lists deliveries by id
    // (time-ordered), so the deliveries of one event arrive next to each other.
    if (event == nullptr || *event_id != pending.delivery.event_id) {
      event = std::make_shared<const EventShare>(EventShare{std::move(pending.delivery.organization_id),
                                                            std::move(pending.event_type), std::move(pending.event_ref),
                                                            std::move(pending.payload)});
      event_id = &pending.delivery.event_id;
    }
    items.push_back(Item{std::move(config), event, std::move(pending.delivery.id), pending.delivery.attempts, false,
                         pending.delivery.next_attempt_at});
  }
  return items;
}

void DeliveryEngine::Enqueue(std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work) {
  if (work.empty()) return;
  auto items = std::make_shared<std::vector<Item>>(ToItems(std::move(work)));
  const size_t n = items->size();
  held_ += n;  // counted at once, so Overloaded() sees a batch before the loop takes it
  if (!PostToLoop([this, items] { EnqueueOnLoop(std::move(*items)); })) held_ -= n;
}

void DeliveryEngine::EnqueueOnLoop(std::vector<Item> items) {
  const TimePoint now = clock_.Now();
  for (Item& item : items) {
    WebhookQueue& q = queues_[item.config->record.id];
    const bool fresh = q.config == nullptr;
    q.config = item.config;  // the newest configuration wins
    if (fresh) SeedBreaker(item.config->record.id, q, now);
    if (!Keep(q, item)) {
      --held_;  // left in the store (or already held): paged in later
      continue;
    }
    Place(std::move(item), now);
  }
  PageMore();
  KickPass();
}

void DeliveryEngine::Place(Item&& item, TimePoint now) {
  auto it = queues_.find(item.config->record.id);
  if (it == queues_.end()) {
    Release(item);
    return;
  }
  WebhookQueue& q = it->second;
  if (q.config->record.ordered) {
    // FIFO: every delivery waits in line, a retry at the head holds back the rest
    // (TakeNext), so nothing goes to the timer heap.
    q.ready.push_back(std::move(item));
    Ring(it->first, q);
  } else if (item.next_attempt_at <= now) {
    MakeReady(std::move(item));
  } else {
    const TimePoint due = item.next_attempt_at;
    Schedule(std::move(item), due);
  }
}

bool DeliveryEngine::Keep(WebhookQueue& q, const Item& item) {
  if (q.held_ids.count(item.delivery_id) != 0) return false;  // a page brought it in first
  if (!options_.SharedWork()) {
    // A delivery due at or before the cursor would not be listed by the next page: kept.
    const bool before_cursor = q.overflowed && (item.next_attempt_at < q.cursor_at ||
                                                (item.next_attempt_at == q.cursor_at && item.delivery_id <= q.cursor_id));
    const bool full = q.held_ids.size() >= std::max<size_t>(1, options_.max_held_per_webhook) ||
                      (resident_ >= options_.max_held && !q.held_ids.empty());
    if (!before_cursor && (q.overflowed || full)) {
      if (!q.overflowed) {
        q.overflowed = true;
        q.cursor_at = item.next_attempt_at;
        q.cursor_id.clear();  // the next page starts at this delivery's due time
        overflowed_.insert(item.config->record.id);
      }
      if (q.paging && (!q.dropped_while_paging || item.next_attempt_at < *q.dropped_while_paging)) {
        q.dropped_while_paging = item.next_attempt_at;
      }
      return false;
    }
  }
  q.held_ids.insert(item.delivery_id);
  ++resident_;
  return true;
}

void DeliveryEngine::Uncount(size_t n) {
  held_ -= n;
  resident_ -= std::min(resident_, n);
}

void DeliveryEngine::Release(const Item& item) {
  Uncount(1);
  auto it = queues_.find(item.config->record.id);
  if (it == queues_.end()) return;
  it->second.held_ids.erase(item.delivery_id);
  if (it->second.paging) it->second.released_while_paging.insert(item.delivery_id);
}

void DeliveryEngine::PageMore() {
  if (overflowed_.empty() || options_.SharedWork()) return;
  std::vector<std::string> gone;
  for (const std::string& id : overflowed_) {
    auto it = queues_.find(id);
    if (it == queues_.end()) {
      gone.push_back(id);
      continue;
    }
    RequestPage(id, it->second);
  }
  for (const std::string& id : gone) overflowed_.erase(id);
}

void DeliveryEngine::RequestPage(const std::string& webhook_id, WebhookQueue& q) {
  const size_t per_webhook = std::max<size_t>(1, options_.max_held_per_webhook);
  if (!q.overflowed || q.paging || q.held_ids.size() > per_webhook / 2) return;  // low-water: half
  // A webhook holding nothing may page in even when the bound in all is reached (one at a
  // time), so dead endpoints filling it never hold back a healthy one.
  if (resident_ >= options_.max_held && !q.held_ids.empty()) return;
  size_t limit = per_webhook - q.held_ids.size();
  limit = resident_ < options_.max_held ? std::min(limit, options_.max_held - resident_) : 1;
  limit = std::max<size_t>(1, limit);
  q.paging = true;
  q.dropped_while_paging.reset();
  q.released_while_paging.clear();
  // Outcomes handed to the writer before the read are committed first (the job's Flush), so
  // a delivery finished in memory is not listed again as pending.
  FlushOutcomes();
  RunOffLoop([this, webhook_id, at = q.cursor_at, after = q.cursor_id, limit] {
    writer_.Flush();
    auto page = std::make_shared<Result<std::vector<store::PendingDelivery>>>(
        store_.ListDueDeliveriesForWebhook(webhook_id, at, after, static_cast<int>(limit)));
    PostToLoop([this, webhook_id, page, limit] { OnPage(webhook_id, std::move(*page), limit); });
  });
}

void DeliveryEngine::OnPage(const std::string& webhook_id, Result<std::vector<store::PendingDelivery>> page,
                            size_t limit) {
  auto it = queues_.find(webhook_id);
  if (it == queues_.end()) return;  // removed meanwhile: its deliveries were cancelled
  WebhookQueue& q = it->second;
  q.paging = false;
  if (!page.ok()) {
    Log(LogLevel::kWarn, "cannot page in a webhook's deliveries: retrying in a second",
        {{"webhook_id", webhook_id}, {"detail", page.status().message()}});
    q.released_while_paging.clear();
    loop_->WakeAt(*alive_, clock_.Now() + std::chrono::seconds(1), options_.tick, [alive = alive_, this] {
      if (!alive->stopped) PageMore();
    });
    return;
  }
  const size_t listed = page->size();
  std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work;
  for (store::PendingDelivery& p : *page) {
    q.cursor_at = p.delivery.next_attempt_at;
    q.cursor_id = p.delivery.id;
    // Already in memory (a retry moved its due time past the cursor), or finished while the
    // page was read (its outcome may not have been committed before the read).
    if (q.held_ids.count(p.delivery.id) != 0 || q.released_while_paging.count(p.delivery.id) != 0) continue;
    work.emplace_back(q.config, std::move(p));
  }
  q.released_while_paging.clear();
  if (listed < limit) q.overflowed = false;  // the store has no more after the cursor
  if (q.dropped_while_paging) {  // committed while the page was read: may be before its end
    q.overflowed = true;
    if (*q.dropped_while_paging < q.cursor_at) {
      q.cursor_at = *q.dropped_while_paging;
      q.cursor_id.clear();
    } else if (*q.dropped_while_paging == q.cursor_at) {
      q.cursor_id.clear();
    }
    q.dropped_while_paging.reset();
  }
  if (!q.overflowed) overflowed_.erase(webhook_id);
  const TimePoint now = clock_.Now();
  for (Item& item : ToItems(std::move(work))) {
    q.held_ids.insert(item.delivery_id);
    ++resident_;
    ++held_;
    Place(std::move(item), now);
  }
  KickPass();
  PageMore();
}

void DeliveryEngine::RunOffLoop(std::function<void()> job) {
  if (own_loop_ != nullptr) {  // tests: the manual loop runs the read in its turn
    PostToLoop(std::move(job));
    return;
  }
  std::lock_guard<std::mutex> lock(pager_mu_);
  if (pager_stopping_) return;
  if (!pager_.joinable()) {
    pager_ = std::thread([this] {
      SetCurrentThreadName("ulak-pager");
      for (;;) {
        std::function<void()> next;
        {
          std::unique_lock<std::mutex> l(pager_mu_);
          pager_wake_.wait(l, [this] { return pager_stopping_ || !pager_jobs_.empty(); });
          if (pager_stopping_) return;
          next = std::move(pager_jobs_.front());
          pager_jobs_.pop_front();
        }
        next();
      }
    });
  }
  pager_jobs_.push_back(std::move(job));
  pager_wake_.notify_one();
}

void DeliveryEngine::StopPager() {
  {
    std::lock_guard<std::mutex> lock(pager_mu_);
    pager_stopping_ = true;
    pager_jobs_.clear();
  }
  pager_wake_.notify_all();
  if (pager_.joinable() && pager_.get_id() != std::this_thread::get_id()) pager_.join();
}

void DeliveryEngine::UpdateWebhook(ConfigPtr config) {
  if (!config->record.is_active) {
    RemoveWebhook(config->record.id);
    return;
  }
  PostToLoop([this, config = std::move(config)] { UpdateOnLoop(config); });
}

void DeliveryEngine::UpdateOnLoop(const ConfigPtr& config) {
  streaks_.erase(config->record.id);  // re-seeded from the new configuration's stored streak
  auto it = queues_.find(config->record.id);
  if (it != queues_.end()) {
    it->second.config = config;
    for (Item& item : it->second.ready) item.config = config;
    Ring(config->record.id, it->second);  // a raised max_in_flight may free capacity
    KickPass();
  }
}

void DeliveryEngine::RemoveWebhook(const std::string& webhook_id) {
  PostToLoop([this, webhook_id] { RemoveOnLoop(webhook_id); });
}

void DeliveryEngine::RemoveOnLoop(const std::string& webhook_id) {
  streaks_.erase(webhook_id);
  auto it = queues_.find(webhook_id);
  overflowed_.erase(webhook_id);
  if (it == queues_.end()) return;
  Uncount(it->second.ready.size());
  if (it->second.breaker.open()) Metrics::Instance().CountBreaker(false);  // no longer paused
  queues_.erase(it);  // waiting retries are dropped when their timer pops
}

int DeliveryEngine::RunDueRetriesNow() {
  return AskLoop<int>([this] { return RunDueRetriesOnLoop(); }, 0);
}

int DeliveryEngine::RunDueRetriesOnLoop() {
  int count = 0;
  const TimePoint now = clock_.Now();
  for (auto& [id, q] : queues_) {  // an ordered webhook's waiting retry is its queue's head
    if (!q.config->record.ordered || q.ready.empty() || q.ready.front().next_attempt_at <= now) continue;
    q.ready.front().next_attempt_at = now;
    if (!q.breaker.open()) q.throttled_until.reset();
    Ring(id, q);
    ++count;
  }
  while (!timers_.empty()) {
    Item item = PopTimer();
    if (queues_.count(item.config->record.id) == 0) {
      Uncount(1);
      continue;
    }
    MakeReady(std::move(item));
    ++count;
  }
  KickPass();
  return count;
}

size_t DeliveryEngine::HeldCount() { return held_.load(); }

void DeliveryEngine::MakeReady(Item&& item) {
  const std::string& id = item.config->record.id;
  auto it = queues_.find(id);
  if (it == queues_.end()) {  // the webhook was removed meanwhile
    Uncount(1);
    return;
  }
  it->second.ready.push_back(std::move(item));
  Ring(it->first, it->second);
}

void DeliveryEngine::Schedule(Item&& item, TimePoint due) {
  timers_.push_back(Timed{due, timer_seq_++, std::move(item)});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

DeliveryEngine::Item DeliveryEngine::PopTimer() {
  std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
  Item item = std::move(timers_.back().item);
  timers_.pop_back();
  return item;
}

void DeliveryEngine::Ring(const std::string& webhook_id, WebhookQueue& q) {
  if (q.in_ring || q.throttled_until || q.ready.empty() || q.in_flight >= q.Cap()) return;
  q.in_ring = true;
  ring_.push_back(webhook_id);
}

void DeliveryEngine::KickPass() {
  if (pass_posted_) return;
  pass_posted_ = true;
  PostToLoop([this] {
    pass_posted_ = false;
    Pass();
  });
}

void DeliveryEngine::WakeAt(TimePoint due) {
  if (wake_at_ && *wake_at_ <= due) return;  // an earlier wake-up runs a pass that asks again
  wake_at_ = due;
  loop_->WakeAt(*alive_, due, options_.tick, [alive = alive_, this, due] {
    if (alive->stopped) return;
    if (wake_at_ == due) wake_at_.reset();
    Pass();
  });
}

void DeliveryEngine::Pass() {
  if (alive_->stopped) return;
  for (;;) {
    const TimePoint now = clock_.Now();
    while (!timers_.empty() && timers_.front().due <= now) MakeReady(PopTimer());
    // Webhooks whose token bucket has refilled (or whose pause ended) go back in the ring.
    std::optional<TimePoint> next_token;
    for (size_t i = 0; i < throttled_.size();) {
      auto it = queues_.find(throttled_[i]);
      if (it == queues_.end() || !it->second.throttled_until || *it->second.throttled_until <= now) {
        if (it != queues_.end()) {
          it->second.throttled_until.reset();
          Ring(it->first, it->second);
        }
        throttled_[i] = std::move(throttled_.back());
        throttled_.pop_back();
      } else {
        next_token = next_token ? std::min(*next_token, *it->second.throttled_until) : *it->second.throttled_until;
        ++i;
      }
    }
    // Round-robin: one delivery per webhook per turn, so no webhook starves another.
    std::vector<std::shared_ptr<Item>> launch;
    while (!ring_.empty()) {
      const std::string id = std::move(ring_.front());
      ring_.pop_front();
      auto it = queues_.find(id);
      if (it == queues_.end()) continue;
      WebhookQueue& q = it->second;
      q.in_ring = false;
      std::shared_ptr<Item> item = TakeNext(id, q, now);
      if (item == nullptr) {
        if (q.throttled_until) {
          next_token = next_token ? std::min(*next_token, *q.throttled_until) : *q.throttled_until;
        }
        continue;
      }
      launch.push_back(std::move(item));
      Ring(id, q);
    }
    if (!launch.empty()) {
      for (auto& item : launch) LaunchQueued(std::move(item));
      if (alive_->stopped) return;
      continue;
    }
    std::optional<TimePoint> next = next_token;
    if (!timers_.empty()) next = next ? std::min(*next, timers_.front().due) : timers_.front().due;
    if (next) WakeAt(*next);
    return;
  }
}

std::shared_ptr<DeliveryEngine::Item> DeliveryEngine::TakeNext(const std::string& webhook_id, WebhookQueue& q,
                                                                TimePoint now) {
  if (alive_->stopped || q.ready.empty() || q.in_flight >= q.Cap() || q.throttled_until) return nullptr;
  if (q.config->record.ordered && q.ready.front().next_attempt_at > now) {
    // Ordered: the head waits for its retry and everything behind it waits too.
    q.throttled_until = q.ready.front().next_attempt_at;
    throttled_.push_back(webhook_id);
    return nullptr;
  }
  if (!TakeToken(q, now)) {  // over its rate limit: waits, is not failed
    throttled_.push_back(webhook_id);
    return nullptr;
  }
  auto item = std::make_shared<Item>(std::move(q.ready.front()));
  q.ready.pop_front();
  item->config = q.config;
  item->probe = q.breaker.open();
  ++q.in_flight;
  return item;
}

void DeliveryEngine::LaunchQueued(std::shared_ptr<Item> item) {
  Item& ref = *item;  // kept alive by the try's callback, which holds `item`
  Launch(std::move(item), true, [this, &ref](TryResult&& result) { OnQueuedResult(ref, std::move(result)); });
}

void DeliveryEngine::Launch(std::shared_ptr<Item> item, bool allow_retry, TryDone done) {
  if (NeedsShaping(*item->config)) {
    LaunchShaped(std::move(item), allow_retry, std::move(done));
    return;
  }
  SignedRequest signed_request = BuildDeliveryRequest(*item->config, item->delivery_id, item->event->payload, clock_.Now());
  transport_.Send(std::move(signed_request.request),
                  OnLoop<TransportResult>([this, item, allow_retry, signature = std::move(signed_request.signature),
                                           done = std::move(done)](TransportResult&& result) {
                    Finish(item, allow_retry, signature, nullptr, done, std::move(result));
                  }));
}

void DeliveryEngine::Finish(const std::shared_ptr<Item>& item, bool allow_retry, const std::string& signature,
                            const Sent* sent, const TryDone& done, TransportResult&& result, bool skipped) {
  if (alive_->stopped) return;  // abandoned: still pending in the store, tried after restart
  store::AttemptOutcome outcome = Judge(*item, result, signature, sent, allow_retry && !skipped);
  if (skipped) {
    outcome.attempt.status = outcome.delivery_status = store::DeliveryStatus::kSkipped;
    Metrics::Instance().CountSkipped();
  } else {
    Metrics::Instance().CountAttempt(
        outcome.delivery_status == store::DeliveryStatus::kSuccess    ? Metrics::AttemptResult::kSuccess
        : outcome.delivery_status == store::DeliveryStatus::kRetrying ? Metrics::AttemptResult::kRetrying
                                                                      : Metrics::AttemptResult::kFailed,
        outcome.attempt.response_time_ms);
  }
  const std::string disable_reason = skipped ? "" : TrackStreak(*item, result, outcome);
  // The breaker's state after this try is stored with it, so a restart or another node does
  // not give a dead endpoint fresh tries.
  if (allow_retry && !skipped) {
    outcome.breaker = TrackBreaker(*item, IsUnreachable(result), outcome.attempt.created_at);
  }
  const ConfigPtr config = item->config;  // `done` may move the item on
  TryResult tried{outcome.attempt, outcome.delivery_status == store::DeliveryStatus::kRetrying, IsUnreachable(result)};
  RecordOutcome(std::move(outcome));
  done(std::move(tried));
  if (!disable_reason.empty() && disable_handler_) {
    FlushOutcomes();  // the try that disables the webhook is recorded first, as before the batching
    disable_handler_(config, disable_reason);
  }
}

void DeliveryEngine::RecordOutcome(store::AttemptOutcome&& outcome) {
  const bool first = outcomes_.empty();
  outcomes_.push_back(std::move(outcome));
  // The first outcome of a transport turn asks for the hand-off at the turn's end.
  if (first) transport_.AfterCallbacks([this] { FlushOutcomes(); });
}

void DeliveryEngine::FlushOutcomes() {
  if (outcomes_.empty()) return;
  std::vector<store::AttemptOutcome> batch;
  batch.swap(outcomes_);
  writer_.RecordBatch(std::move(batch));
}

struct DeliveryEngine::ShapedTry {
  std::shared_ptr<Item> item;
  bool allow_retry = false;
  TryDone done;
  ShapedRequest shaped;
  Sent sent;
  std::string signature;
};

namespace {

// A try that failed before anything was sent (shaping, token refresh): recorded like a
// transport error, with `message` as its error_message.
TransportResult NotSent(std::string message) {
  TransportResult r;
  r.error = TransportError::kOther;
  r.error_message = std::move(message);
  return r;
}

}  // namespace

void DeliveryEngine::LaunchShaped(std::shared_ptr<Item> item, bool allow_retry, TryDone done) {
  const WebhookConfig& config = *item->config;
  Result<ShapedRequest> shaped = ShapeRequest(config, *item->event->payload);
  if (!shaped.ok()) {
    Sent sent{"POST", config.record.url, nullptr};
    Finish(item, allow_retry, "", &sent, done, NotSent("shaping failed: " + shaped.status().message()));
    return;
  }
  if (shaped->skip) {
    // The transform returned nil (SPEC §7): the delivery ends here, without the network.
    Sent sent{shaped->method, shaped->url, nullptr};
    Finish(item, allow_retry, "", &sent, done, NotSent("skipped: the transform returned nil"), /*skipped=*/true);
    return;
  }
  auto state = std::make_shared<ShapedTry>();
  state->item = std::move(item);
  state->allow_retry = allow_retry;
  state->done = std::move(done);
  state->sent = Sent{shaped->method, shaped->url, shaped->body};
  state->shaped = std::move(shaped).value();
  if (config.template_config == nullptr) {  // fields or a transform only: no credential
    SendShaped(state, "", false);
    return;
  }
  switch (config.template_auth.kind) {
    case shape::TemplateAuth::Kind::kOAuth2:
      WithToken(state, true);
      return;
    case shape::TemplateAuth::Kind::kAccessToken:
      SendShaped(state, config.template_auth.access_token, false);
      return;
    case shape::TemplateAuth::Kind::kSecret:
      SendShaped(state, config.template_auth.secret, false);
      return;
    case shape::TemplateAuth::Kind::kNone:
      SendShaped(state, "", false);
      return;
  }
}

void DeliveryEngine::WithToken(const std::shared_ptr<ShapedTry>& state, bool may_refresh) {
  const WebhookConfig& config = *state->item->config;
  OAuthCredentials credentials{config.template_token_url, config.template_auth.refresh_token,
                               config.template_auth.client_id, config.template_auth.client_secret,
                               std::chrono::seconds(config.record.timeout_seconds)};
  tokens_.Get(config.template_token_key, credentials,
              OnLoop<Result<std::string>>([this, state, may_refresh](Result<std::string>&& token) {
                if (!token.ok()) {
                  Finish(state->item, state->allow_retry, state->signature, &state->sent, state->done,
                         NotSent(token.status().message()));
                  return;
                }
                SendShaped(state, std::move(token).value(), may_refresh);
              }));
}

void DeliveryEngine::SendShaped(const std::shared_ptr<ShapedTry>& state, std::string credential, bool may_refresh) {
  const WebhookConfig& config = *state->item->config;
  SignedRequest request = SignShapedRequest(config, state->item->delivery_id, state->shaped, credential, clock_.Now());
  state->signature = std::move(request.signature);
  transport_.Send(std::move(request.request),
                  OnLoop<TransportResult>([this, state, credential = std::move(credential),
                                           may_refresh](TransportResult&& result) {
                    if (may_refresh && result.error == TransportError::kNone && result.status == 401) {
                      // The token expired early or was revoked: one refresh, then the same request again.
                      tokens_.Invalidate(state->item->config->template_token_key, credential);
                      WithToken(state, false);
                      return;
                    }
                    Finish(state->item, state->allow_retry, state->signature, &state->sent, state->done,
                           std::move(result));
                  }));
}

store::AttemptOutcome DeliveryEngine::Judge(const Item& item, const TransportResult& result,
                                            const std::string& signature, const Sent* sent, bool allow_retry) {
  const WebhookConfig& config = *item.config;
  const EventShare& event = *item.event;
  const TimePoint now = clock_.Now();
  const int attempt_number = item.attempts + 1;

  store::AttemptOutcome out;
  store::Attempt& a = out.attempt;
  a.id = NewId(clock_, random_);
  a.delivery_id = item.delivery_id;
  a.organization_id = event.organization_id;
  a.webhook_id = config.record.id;
  a.event_type = event.event_type;
  a.event_ref = event.event_ref;
  if (sent != nullptr) {
    a.request_url = sent->url;
    a.request_method = sent->method;
    if (sent->body) a.request_body = *sent->body;  // the log's own copy; the request shared it
  } else {
    a.request_url = config.record.url;
  }
  a.request_signature = signature;
  if (result.status != 0) a.response_status = result.status;
  a.response_body = result.body;
  a.response_time_ms = result.response_time_ms;
  a.attempt_number = attempt_number;
  a.error_message = ErrorMessageFor(result);
  a.created_at = now;
  out.attempts = attempt_number;
  out.next_attempt_at = now;

  if (IsSuccess(result)) {
    a.status = out.delivery_status = store::DeliveryStatus::kSuccess;
    a.delivered_at = now;
    return out;
  }
  std::optional<std::chrono::milliseconds> delay;
  const bool gone = result.error == TransportError::kNone && result.status == 410 && config.record.disable_on_gone;
  if (allow_retry && !gone) {
    delay = DelayBeforeRetry(config.retry_policy, config.record.retry_enabled, config.record.max_retries,
                             attempt_number, random_);
  }
  if (delay && result.error == TransportError::kNone && HonoursRetryAfter(result.status)) {
    // The receiver says when to come back: not before then, and at most an hour beyond
    // the policy's own delay. The attempt log records the wait.
    if (std::optional<std::chrono::milliseconds> wait = ParseRetryAfter(result.retry_after, now)) {
      delay = DelayHonouringRetryAfter(*delay, *wait);
      a.error_message += "; Retry-After: " + result.retry_after + " (next try in " +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*delay).count()) + " s)";
    }
  }
  if (delay) {
    a.status = out.delivery_status = store::DeliveryStatus::kRetrying;
    a.next_retry_at = out.next_attempt_at = now + *delay;
    // This node keeps the retry in memory, so it keeps the claim until after the try.
    if (options_.SharedWork()) out.lease_until = out.next_attempt_at + options_.lease;
  } else {
    a.status = out.delivery_status = store::DeliveryStatus::kFailed;
  }
  return out;
}

std::string DeliveryEngine::TrackStreak(const Item& item, const TransportResult& result,
                                        store::AttemptOutcome& outcome) {
  const store::Webhook& w = item.config->record;
  if (outcome.delivery_status == store::DeliveryStatus::kRetrying) return "";  // not finished yet
  const TimePoint now = outcome.attempt.created_at;
  auto [it, fresh] = streaks_.try_emplace(w.id);
  FailureStreak& streak = it->second;
  if (fresh) streak = FailureStreak(w.consecutive_failures, w.first_failure_at);
  if (outcome.delivery_status == store::DeliveryStatus::kSuccess) {
    streak.RecordSuccess();
  } else {
    streak.RecordFailure(now);
  }
  outcome.consecutive_failures = streak.failures();
  outcome.first_failure_at = streak.first_failure_at();
  if (result.error == TransportError::kNone && result.status == 410 && w.disable_on_gone) {
    return "The endpoint answered 410 Gone.";
  }
  return streak.DisableReason(options_.auto_disable_failures, options_.auto_disable_after, now);
}

std::vector<ConfigPtr> DeliveryEngine::HeldWebhooks() {
  return AskLoop<std::vector<ConfigPtr>>(
      [this] {
        std::vector<ConfigPtr> out;
        out.reserve(queues_.size());
        for (const auto& [id, q] : queues_) out.push_back(q.config);
        return out;
      },
      {});
}

bool DeliveryEngine::Overloaded() { return held_.load() >= options_.max_pending; }

bool DeliveryEngine::TakeToken(WebhookQueue& q, TimePoint now) {
  const int rate = q.config->record.rate_limit_per_s.value_or(0);
  if (q.bucket.TryTake(rate, now)) return true;
  q.throttled_until = q.bucket.NextTokenAt(rate);
  return false;
}

void DeliveryEngine::OnQueuedResult(Item& item, TryResult&& result) {
  // A slot freed by a finished try goes straight to the webhook's next ready delivery, in
  // the same loop turn, instead of waiting for a pass. Not when nested (a transport that
  // completes synchronously would recurse): a pass takes over then.
  thread_local bool relaunching = false;
  std::shared_ptr<Item> next;
  {
    auto it = queues_.find(item.config->record.id);
    if (it == queues_.end()) {  // the webhook was removed meanwhile
      Uncount(1);
      return;
    }
    WebhookQueue& q = it->second;
    q.in_flight = std::max(0, q.in_flight - 1);
    const TimePoint now = result.attempt.created_at;
    bool wake = false;
    if (result.retry_later) {
      item.attempts = result.attempt.attempt_number;
      item.next_attempt_at = *result.attempt.next_retry_at;
      item.probe = false;
      if (q.config->record.ordered) {
        q.ready.push_front(std::move(item));  // still first in line (TakeNext holds the rest)
      } else {
        Schedule(std::move(item), *result.attempt.next_retry_at);
      }
      wake = true;  // the next wake-up may have to come sooner
    } else {
      q.held_ids.erase(item.delivery_id);
      if (q.paging) q.released_while_paging.insert(item.delivery_id);
      Uncount(1);
    }
    if (!relaunching) next = TakeNext(it->first, q, now);
    const bool was_in_ring = q.in_ring;
    Ring(it->first, q);
    if (q.in_ring != was_in_ring || (next == nullptr && q.throttled_until)) wake = true;
    if (wake) KickPass();
  }
  if (next != nullptr) {
    relaunching = true;
    LaunchQueued(std::move(next));
    relaunching = false;
  }
  PageMore();  // a queue drained below its low-water mark pages its backlog in
}

std::optional<store::Webhook::Breaker> DeliveryEngine::TrackBreaker(const Item& item, bool unreachable,
                                                                    TimePoint now) {
  auto it = queues_.find(item.config->record.id);
  if (it == queues_.end()) return std::nullopt;  // removed meanwhile
  WebhookQueue& q = it->second;
  TrackBreakerOnQueue(it->first, q, item, unreachable, now);
  store::Webhook::Breaker b;
  b.streak = q.breaker.streak();
  b.cooldown = q.breaker.cooldown();
  if (q.breaker.open()) b.paused_until = q.throttled_until;
  return b;
}

void DeliveryEngine::SeedBreaker(const std::string& webhook_id, WebhookQueue& q, TimePoint now) {
  const store::Webhook::Breaker& stored = q.config->record.breaker;
  q.breaker = CircuitBreaker(CircuitBreakerOptions{options_.breaker_failures, options_.breaker_cooldown,
                                                   options_.breaker_max_cooldown});
  // Open when stored: it stays open here, and its pause (if not over) is kept.
  if (!q.breaker.Seed(stored)) return;
  // Counted as paused on this node (RemoveWebhook and the closing answer uncount it); the
  // pauses counter also counts it once more, as this node's pause.
  Metrics::Instance().CountBreaker(true);
  if (stored.paused_until && *stored.paused_until > now) {
    q.throttled_until = *stored.paused_until;
    throttled_.push_back(webhook_id);
  }
}

void DeliveryEngine::TrackBreakerOnQueue(const std::string& webhook_id, WebhookQueue& q, const Item& item,
                                         bool unreachable, TimePoint now) {
  const CircuitBreaker::Outcome outcome = q.breaker.Record(unreachable, item.probe, now);
  switch (outcome.change) {
    case CircuitBreaker::Change::kNone:
      return;
    case CircuitBreaker::Change::kClosed:
      q.throttled_until.reset();  // the scan of throttled_ drops its entry
      Metrics::Instance().CountBreaker(false);
      Log(LogLevel::kInfo, "endpoint answers again: resuming its deliveries", {{"webhook_id", webhook_id}});
      return;
    case CircuitBreaker::Change::kOpened:
      Metrics::Instance().CountBreaker(true);
      Log(LogLevel::kWarn, "endpoint unreachable: pausing its deliveries, probing it once per cooldown",
          {{"webhook_id", webhook_id},
           {"consecutive_failures", static_cast<uint64_t>(q.breaker.streak())},
           {"cooldown_ms", static_cast<uint64_t>(q.breaker.cooldown().count())}});
      break;
    case CircuitBreaker::Change::kBackedOff:
      break;
  }
  const TimePoint until = *outcome.pause_until;
  if (!q.throttled_until || *q.throttled_until < until) q.throttled_until = until;
  throttled_.push_back(webhook_id);
  KickPass();  // the next wake-up must come by `until`
}

void DeliveryEngine::SendNow(ConfigPtr config, store::PendingDelivery work,
                             std::function<void(store::Attempt&&)> done) {
  std::vector<std::pair<ConfigPtr, store::PendingDelivery>> one;
  one.emplace_back(std::move(config), std::move(work));
  auto item = std::make_shared<Item>(std::move(ToItems(std::move(one)).front()));
  auto answer = std::make_shared<std::function<void(store::Attempt&&)>>(std::move(done));
  if (PostToLoop([this, item, answer] {
        Launch(item, false, [answer](TryResult&& result) { (*answer)(std::move(result.attempt)); });
      })) {
    return;
  }
  // The loop takes no more work: answered here, not sent, not recorded.
  (*answer)(Judge(*item, NotSent("the delivery engine is stopping"), "", nullptr, false).attempt);
}

}  // namespace ulak::delivery
