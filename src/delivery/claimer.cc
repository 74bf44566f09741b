#include "delivery/claimer.h"

#include "common/log.h"
#include "common/thread_name.h"

namespace ulak::delivery {

Claimer::Claimer(store::Store& store, DeliveryEngine& engine, const Clock& clock, ClaimerOptions options)
    : store_(store), engine_(engine), clock_(clock), options_(options) {}

Claimer::~Claimer() { Stop(); }

void Claimer::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("ulak-claimer");
    Run();
  });
}

void Claimer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

ConfigPtr Claimer::ConfigFor(const std::string& webhook_id, TimePoint now) {
  auto it = configs_.find(webhook_id);
  if (it != configs_.end() && now - it->second.loaded_at < options_.config_ttl) return it->second.config;
  ConfigPtr config;
  Result<store::Webhook> record = store_.GetWebhook("", webhook_id);
  if (record.ok()) {
    Result<ConfigPtr> parsed = ParseWebhookConfig(std::move(record).value());
    if (parsed.ok()) config = *parsed;
  } else if (record.status().code() != ErrorCode::kNotFound) {
    return it != configs_.end() ? it->second.config : nullptr;  // store away: keep what we had
  }
  configs_[webhook_id] = CachedConfig{config, now};
  return config;
}

size_t Claimer::Round(TimePoint& next_renewal) {
  const EngineOptions& engine_options = engine_.options();
  const TimePoint now = clock_.Now();
  if (now >= next_renewal) {
    Result<int64_t> renewed = store_.RenewLeases(engine_options.node_id, now + engine_options.lease);
    if (!renewed.ok()) {
      Log(LogLevel::kWarn, "cannot renew leases", {{"error", renewed.status().message()}});
      return 0;
    }
    next_renewal = now + engine_options.lease / 3;
  }
  const size_t held = engine_.HeldCount();
  if (held >= options_.max_held) return 0;
  const int limit = static_cast<int>(std::min<size_t>(options_.batch, options_.max_held - held));
  Result<std::vector<store::PendingDelivery>> claimed =
      store_.ClaimDueDeliveries(engine_options.node_id, now, now + engine_options.lease, limit);
  if (!claimed.ok()) {
    Log(LogLevel::kWarn, "cannot claim deliveries", {{"error", claimed.status().message()}});
    return 0;
  }
  std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work;
  for (store::PendingDelivery& p : *claimed) {
    ConfigPtr config = ConfigFor(p.delivery.webhook_id, now);
    // A deleted or disabled webhook's deliveries are cancelled by whoever changed it.
    if (config != nullptr && config->record.is_active) work.emplace_back(std::move(config), std::move(p));
  }
  const size_t count = claimed->size();
  if (!work.empty()) {
    Log(LogLevel::kDebug, "claimed deliveries", {{"count", static_cast<uint64_t>(work.size())}});
    engine_.Enqueue(std::move(work));
  }
  return count;
}

void Claimer::RefreshHeldWebhooks() {
  for (const ConfigPtr& held : engine_.HeldWebhooks()) {
    Result<store::Webhook> record = store_.GetWebhook("", held->record.id);
    if (!record.ok()) {
      if (record.status().code() == ErrorCode::kNotFound) engine_.RemoveWebhook(held->record.id);
      continue;  // the store is away: keep what we have
    }
    if (record->updated_at == held->record.updated_at) continue;
    Result<ConfigPtr> fresh = ParseWebhookConfig(std::move(record).value());
    if (fresh.ok()) engine_.UpdateWebhook(*fresh);  // an inactive one is removed
  }
}

void Claimer::Run() {
  TimePoint next_renewal = clock_.Now();
  TimePoint next_refresh = clock_.Now() + options_.config_ttl;
  while (!stopping_) {
    if (clock_.Now() >= next_refresh) {
      RefreshHeldWebhooks();
      next_refresh = clock_.Now() + options_.config_ttl;
    }
    const size_t claimed = Round(next_renewal);
    if (claimed >= static_cast<size_t>(options_.batch)) continue;  // more may be waiting
    // Wakes at once on NOTIFY; the poll interval bounds how late expired leases are seen.
    store_.WaitForWork(options_.poll_interval);
  }
}

}  // namespace ulak::delivery
