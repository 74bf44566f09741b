#include "delivery/engine.h"

#include <algorithm>

#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
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
      tokens_(transport, clock) {}

DeliveryEngine::~DeliveryEngine() { Stop(); }

Status DeliveryEngine::Start() {
  if (options_.SharedWork()) {
    dispatcher_ = std::thread([this] { Run(); });
    return Status::Ok();
  }
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
  dispatcher_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void DeliveryEngine::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_all();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
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
  std::vector<Item> items = ToItems(std::move(work));
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  for (Item& item : items) {
    WebhookQueue& q = queues_[item.config->record.id];
    const bool fresh = q.config == nullptr;
    q.config = item.config;  // the newest configuration wins
    if (fresh) SeedBreakerLocked(item.config->record.id, q, now);
    ++held_;
    if (q.config->record.ordered) {
      // FIFO: every delivery waits in line, a retry at the head holds back the rest
      // (TakeNextLocked), so nothing goes to the timer heap.
      q.ready.push_back(std::move(item));
      RingLocked(q.config->record.id, q);
    } else if (item.next_attempt_at <= now) {
      MakeReadyLocked(std::move(item));
    } else {
      const TimePoint due = item.next_attempt_at;
      ScheduleLocked(std::move(item), due);
    }
  }
  wake_.notify_one();
}

void DeliveryEngine::UpdateWebhook(ConfigPtr config) {
  if (!config->record.is_active) {
    RemoveWebhook(config->record.id);
    return;
  }
  std::lock_guard lock(mu_);
  streaks_.erase(config->record.id);  // re-seeded from the new configuration's stored streak
  auto it = queues_.find(config->record.id);
  if (it != queues_.end()) {
    it->second.config = config;
    for (Item& item : it->second.ready) item.config = config;
    RingLocked(config->record.id, it->second);  // a raised max_in_flight may free capacity
    wake_.notify_one();
  }
}

void DeliveryEngine::RemoveWebhook(const std::string& webhook_id) {
  std::lock_guard lock(mu_);
  streaks_.erase(webhook_id);
  auto it = queues_.find(webhook_id);
  if (it == queues_.end()) return;
  held_ -= it->second.ready.size();
  if (it->second.breaker.open()) Metrics::Instance().CountBreaker(false);  // no longer paused
  queues_.erase(it);  // waiting retries are dropped when their timer pops
}

int DeliveryEngine::RunDueRetriesNow() {
  std::lock_guard lock(mu_);
  int count = 0;
  const TimePoint now = clock_.Now();
  for (auto& [id, q] : queues_) {  // an ordered webhook's waiting retry is its queue's head
    if (!q.config->record.ordered || q.ready.empty() || q.ready.front().next_attempt_at <= now) continue;
    q.ready.front().next_attempt_at = now;
    if (!q.breaker.open()) q.throttled_until.reset();
    RingLocked(id, q);
    ++count;
  }
  while (!timers_.empty()) {
    Item item = PopTimerLocked();
    if (queues_.count(item.config->record.id) == 0) {
      --held_;
      continue;
    }
    MakeReadyLocked(std::move(item));
    ++count;
  }
  wake_.notify_one();
  return count;
}

size_t DeliveryEngine::HeldCount() {
  std::lock_guard lock(mu_);
  return held_;
}

void DeliveryEngine::MakeReadyLocked(Item&& item) {
  const std::string& id = item.config->record.id;
  auto it = queues_.find(id);
  if (it == queues_.end()) {  // the webhook was removed meanwhile
    --held_;
    return;
  }
  it->second.ready.push_back(std::move(item));
  RingLocked(it->first, it->second);
}

void DeliveryEngine::ScheduleLocked(Item&& item, TimePoint due) {
  timers_.push_back(Timed{due, timer_seq_++, std::move(item)});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

DeliveryEngine::Item DeliveryEngine::PopTimerLocked() {
  std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
  Item item = std::move(timers_.back().item);
  timers_.pop_back();
  return item;
}

void DeliveryEngine::RingLocked(const std::string& webhook_id, WebhookQueue& q) {
  if (q.in_ring || q.throttled_until || q.ready.empty() || q.in_flight >= q.Cap()) return;
  q.in_ring = true;
  ring_.push_back(webhook_id);
}

void DeliveryEngine::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const TimePoint now = clock_.Now();
    while (!timers_.empty() && timers_.front().due <= now) MakeReadyLocked(PopTimerLocked());
    // Webhooks whose token bucket has refilled go back in the ring.
    std::optional<TimePoint> next_token;
    for (size_t i = 0; i < throttled_.size();) {
      auto it = queues_.find(throttled_[i]);
      if (it == queues_.end() || !it->second.throttled_until || *it->second.throttled_until <= now) {
        if (it != queues_.end()) {
          it->second.throttled_until.reset();
          RingLocked(it->first, it->second);
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
      std::shared_ptr<Item> item = TakeNextLocked(id, q, now);
      if (item == nullptr) {
        if (q.throttled_until) {
          next_token = next_token ? std::min(*next_token, *q.throttled_until) : *q.throttled_until;
        }
        continue;
      }
      launch.push_back(std::move(item));
      RingLocked(id, q);
    }
    if (!launch.empty()) {
      lock.unlock();
      for (auto& item : launch) LaunchQueued(std::move(item));
      lock.lock();
      continue;
    }
    auto wait = options_.tick;
    std::optional<TimePoint> next = next_token;
    if (!timers_.empty()) next = next ? std::min(*next, timers_.front().due) : timers_.front().due;
    if (next) {
      const auto until_due = std::chrono::duration_cast<std::chrono::milliseconds>(*next - now);
      wait = std::max(std::chrono::milliseconds(1), std::min(wait, until_due));
    }
    ++idle_passes_;
    settled_.notify_all();
    wake_.wait_for(lock, wait);
  }
  settled_.notify_all();
}

void DeliveryEngine::SettleForTest() {
  std::unique_lock lock(mu_);
  const uint64_t target = idle_passes_ + 1;
  wake_.notify_one();
  settled_.wait(lock, [&] { return stopping_ || idle_passes_ >= target; });
}

std::shared_ptr<DeliveryEngine::Item> DeliveryEngine::TakeNextLocked(const std::string& webhook_id, WebhookQueue& q,
                                                                      TimePoint now) {
  if (stopping_ || q.ready.empty() || q.in_flight >= q.Cap() || q.throttled_until) return nullptr;
  if (q.config->record.ordered && q.ready.front().next_attempt_at > now) {
    // Ordered: the head waits for its retry and everything behind it waits too.
    q.throttled_until = q.ready.front().next_attempt_at;
    throttled_.push_back(webhook_id);
    return nullptr;
  }
  if (!TakeTokenLocked(q, now)) {  // over its rate limit: waits, is not failed
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
  Item& ref = *item;
  Launch(std::move(item), true, [this, &ref](TryResult&& result) { OnQueuedResult(ref, std::move(result)); });
}

void DeliveryEngine::Launch(std::shared_ptr<Item> item, bool allow_retry, TryDone done) {
  if (NeedsShaping(*item->config)) {
    LaunchShaped(std::move(item), allow_retry, std::move(done));
    return;
  }
  SignedRequest signed_request = BuildDeliveryRequest(*item->config, item->delivery_id, item->event->payload, clock_.Now());
  transport_.Send(std::move(signed_request.request),
                  [this, item, allow_retry, signature = std::move(signed_request.signature),
                   done = std::move(done)](TransportResult&& result) {
                    Finish(item, allow_retry, signature, nullptr, done, std::move(result));
                  });
}

void DeliveryEngine::Finish(const std::shared_ptr<Item>& item, bool allow_retry, const std::string& signature,
                            const Sent* sent, const TryDone& done, TransportResult&& result, bool skipped) {
  if (allow_retry) {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // abandoned: still pending in the store, tried after restart
  }
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
  bool first;
  {
    std::lock_guard lock(outcomes_mu_);
    first = outcomes_.empty();
    outcomes_.push_back(std::move(outcome));
  }
  // The first outcome of a transport turn asks for the hand-off at the turn's end.
  if (first) transport_.AfterCallbacks([this] { FlushOutcomes(); });
}

void DeliveryEngine::FlushOutcomes() {
  std::vector<store::AttemptOutcome> batch;
  {
    std::lock_guard lock(outcomes_mu_);
    batch.swap(outcomes_);
  }
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
    Sent sent{"POST", config.record.url, ""};
    Finish(item, allow_retry, "", &sent, done, NotSent("shaping failed: " + shaped.status().message()));
    return;
  }
  if (shaped->skip) {
    // The transform returned nil (SPEC §7): the delivery ends here, without the network.
    Sent sent{shaped->method, shaped->url, ""};
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
  tokens_.Get(config.template_token_key, credentials, [this, state, may_refresh](Result<std::string>&& token) {
    if (!token.ok()) {
      Finish(state->item, state->allow_retry, state->signature, &state->sent, state->done,
             NotSent(token.status().message()));
      return;
    }
    SendShaped(state, std::move(token).value(), may_refresh);
  });
}

void DeliveryEngine::SendShaped(const std::shared_ptr<ShapedTry>& state, std::string credential, bool may_refresh) {
  const WebhookConfig& config = *state->item->config;
  SignedRequest request = SignShapedRequest(config, state->item->delivery_id, state->shaped, credential, clock_.Now());
  state->signature = std::move(request.signature);
  transport_.Send(std::move(request.request), [this, state, credential = std::move(credential),
                                               may_refresh](TransportResult&& result) {
    if (may_refresh && result.error == TransportError::kNone && result.status == 401) {
      // The token expired early or was revoked: one refresh, then the same request again.
      tokens_.Invalidate(state->item->config->template_token_key, credential);
      WithToken(state, false);
      return;
    }
    Finish(state->item, state->allow_retry, state->signature, &state->sent, state->done, std::move(result));
  });
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
    a.request_body = sent->body;
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
  std::lock_guard lock(mu_);
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
  std::lock_guard lock(mu_);
  std::vector<ConfigPtr> out;
  out.reserve(queues_.size());
  for (const auto& [id, q] : queues_) out.push_back(q.config);
  return out;
}

bool DeliveryEngine::Overloaded() {
  std::lock_guard lock(mu_);
  return held_ >= options_.max_pending;
}

bool DeliveryEngine::TakeTokenLocked(WebhookQueue& q, TimePoint now) {
  const int rate = q.config->record.rate_limit_per_s.value_or(0);
  if (q.bucket.TryTake(rate, now)) return true;
  q.throttled_until = q.bucket.NextTokenAt(rate);
  return false;
}

void DeliveryEngine::OnQueuedResult(Item& item, TryResult&& result) {
  // A slot freed by a finished try goes straight to the webhook's next ready delivery, here
  // on the transport's thread, instead of waking the dispatcher to hand it back: under load
  // that round trip cost two thread switches per delivery. Not when nested (a transport that
  // completes synchronously would recurse): the dispatcher takes over then.
  thread_local bool relaunching = false;
  std::shared_ptr<Item> next;
  {
    std::lock_guard lock(mu_);
    auto it = queues_.find(item.config->record.id);
    if (it == queues_.end()) {  // the webhook was removed meanwhile
      --held_;
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
        q.ready.push_front(std::move(item));  // still first in line (TakeNextLocked holds the rest)
      } else {
        ScheduleLocked(std::move(item), *result.attempt.next_retry_at);
      }
      wake = true;  // the dispatcher's wait may have to end sooner
    } else {
      --held_;
    }
    if (!relaunching) next = TakeNextLocked(it->first, q, now);
    const bool was_in_ring = q.in_ring;
    RingLocked(it->first, q);
    if (q.in_ring != was_in_ring || (next == nullptr && q.throttled_until)) wake = true;
    if (wake) wake_.notify_one();
  }
  if (next != nullptr) {
    relaunching = true;
    LaunchQueued(std::move(next));
    relaunching = false;
  }
}

std::optional<store::Webhook::Breaker> DeliveryEngine::TrackBreaker(const Item& item, bool unreachable,
                                                                    TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(item.config->record.id);
  if (it == queues_.end()) return std::nullopt;  // removed meanwhile
  WebhookQueue& q = it->second;
  TrackBreakerLocked(it->first, q, item, unreachable, now);
  store::Webhook::Breaker b;
  b.streak = q.breaker.streak();
  b.cooldown = q.breaker.cooldown();
  if (q.breaker.open()) b.paused_until = q.throttled_until;
  return b;
}

void DeliveryEngine::SeedBreakerLocked(const std::string& webhook_id, WebhookQueue& q, TimePoint now) {
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

void DeliveryEngine::TrackBreakerLocked(const std::string& webhook_id, WebhookQueue& q, const Item& item,
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
  wake_.notify_one();  // the dispatcher's next wait must end by `until`
}

void DeliveryEngine::SendNow(ConfigPtr config, store::PendingDelivery work,
                             std::function<void(store::Attempt&&)> done) {
  std::vector<std::pair<ConfigPtr, store::PendingDelivery>> one;
  one.emplace_back(std::move(config), std::move(work));
  auto item = std::make_shared<Item>(std::move(ToItems(std::move(one)).front()));
  Launch(std::move(item), false, [done = std::move(done)](TryResult&& result) { done(std::move(result.attempt)); });
}

}  // namespace ulak::delivery
