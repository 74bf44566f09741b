#include "delivery/publisher.h"

#include <boost/json/object.hpp>

#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "delivery/payload.h"
#include "shape/templates/template.h"

namespace ulak::delivery {
namespace {

// With shared work the publishing node claims what it publishes: it sends at once, and
// other nodes take over only if its lease runs out. Not for an ordered webhook: one node
// holds its whole line (Store::ClaimDueDeliveries), so its deliveries are left to the claim.
store::Delivery NewDelivery(const store::Event& event, const std::string& webhook_id, const std::string& id,
                            const EngineOptions& claim, bool ordered = false) {
  store::Delivery d;
  if (claim.SharedWork() && !ordered) {
    d.claimed_by = claim.node_id;
    d.lease_until = event.created_at + claim.lease;
  }
  d.id = id;
  d.event_id = event.id;
  d.webhook_id = webhook_id;
  d.organization_id = event.organization_id;
  d.status = store::DeliveryStatus::kPending;
  d.next_attempt_at = event.created_at;
  d.created_at = event.created_at;
  return d;
}

store::PendingDelivery PendingFor(const store::Event& event, const store::Delivery& d,
                                  std::shared_ptr<const std::string> payload) {
  return store::PendingDelivery{d, event.event_type, event.event_id.empty() ? event.id : event.event_id,
                                std::move(payload), event.created_at};
}

}  // namespace

Result<std::shared_ptr<const Publisher::Subscriptions>> Publisher::ActiveWebhooks(const std::string& organization_id) {
  const TimePoint now = clock_.Now();
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(organization_id);
    if (it != cache_.end() && now - it->second->loaded_at < kSubscriptionTtl && now >= it->second->loaded_at) {
      return it->second;
    }
  }
  ULAK_ASSIGN_OR_RETURN(std::vector<store::Webhook> webhooks, store_.ListActiveWebhooks(organization_id));
  auto fresh = std::make_shared<Subscriptions>();
  fresh->loaded_at = now;
  for (store::Webhook& w : webhooks) {
    Result<ConfigPtr> config = ParseWebhookConfig(std::move(w));
    if (!config.ok()) {
      Log(LogLevel::kError, "skipping a webhook with a broken stored configuration",
          {{"error", config.status().message()}});
      continue;
    }
    fresh->active.push_back(*config);
  }
  std::lock_guard lock(cache_mu_);
  cache_[organization_id] = fresh;
  return std::shared_ptr<const Subscriptions>(fresh);
}

void Publisher::InvalidateSubscriptions(const std::string& organization_id) {
  std::lock_guard lock(cache_mu_);
  cache_.erase(organization_id);
}

void Publisher::Publish(PublishInput input, PublishDone done) {
  if (!input.operational && engine_.Overloaded()) {
    done(ResourceExhausted("Too many deliveries are waiting; publish again later."));
    return;
  }
  Result<std::shared_ptr<const Subscriptions>> subscriptions = ActiveWebhooks(input.organization_id);
  if (!subscriptions.ok()) {
    done(subscriptions.status());
    return;
  }
  store::PublishRequest request;
  store::Event& event = request.event;
  event.id = NewId(clock_, random_);
  event.organization_id = input.organization_id;
  event.event_type = input.event_type;
  event.event_id = input.event_id;
  event.created_at = clock_.Now();

  std::vector<ConfigPtr> targets;
  int filtered = 0;
  std::optional<boost::json::value> filter_view;  // built for the first filter only
  for (const ConfigPtr& config : (*subscriptions)->active) {
    if (!config->Subscribes(input.event_type)) continue;
    if (config->filter != nullptr) {
      if (!filter_view) {
        filter_view = boost::json::object{{"event", event.event_type},
                                          {"timestamp", FormatRfc3339(event.created_at)},
                                          {"organization_id", event.organization_id},
                                          {"data", input.data},
                                          {"metadata", input.metadata.is_null() ? boost::json::value(boost::json::object())
                                                                                : input.metadata}};
      }
      if (!config->filter->Matches(*filter_view)) {
        ++filtered;
        continue;
      }
    }
    targets.push_back(config);
  }
  event.payload = RenderPayload(event.event_type, event.created_at, event.organization_id, input.data, input.metadata,
                                &input.digits);
  request.incoming = std::move(input.incoming);
  for (const ConfigPtr& t : targets) {
    request.deliveries.push_back(
        NewDelivery(event, t->record.id, NewId(clock_, random_), engine_.options(), t->record.ordered));
  }

  writer_.Publish(std::move(request), [this, targets = std::move(targets), filtered,
                                       done = std::move(done)](Result<store::PublishResult>&& result) {
    if (result.ok()) {
      Metrics::Instance().CountPublished(static_cast<int>(result->deliveries.size()), result->duplicate);
      if (!result->duplicate) {
        result->filtered = filtered;
        if (filtered > 0) Metrics::Instance().CountFiltered(filtered);
      }
    }
    std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work;
    if (result.ok() && !result->duplicate) {
      // Handed to the engine, not copied: callers of a first publish get the event without
      // its payload (publisher.h).
      auto payload = std::make_shared<const std::string>(std::move(result->event.payload));
      for (const store::Delivery& d : result->deliveries) {
        if (engine_.options().SharedWork() && d.claimed_by.empty()) continue;  // left to the claim (ordered)
        for (const ConfigPtr& t : targets) {
          if (t->record.id == d.webhook_id) work.emplace_back(t, PendingFor(result->event, d, payload));
        }
      }
    }
    if (!writer_.InCommitCallbacks()) {  // refused at once (the writer is stopping): on the caller's thread
      engine_.Enqueue(std::move(work));
      done(std::move(result));
      return;
    }
    if (batch_.done.empty()) writer_.AfterCommitCallbacks([this] { HandOver(); });
    for (auto& w : work) batch_.work.push_back(std::move(w));
    batch_.done.emplace_back(std::move(done), std::move(result));
  });
}

void Publisher::HandOver() {
  CommitBatch batch = std::move(batch_);
  batch_ = CommitBatch{};
  engine_.Enqueue(std::move(batch.work));
  for (auto& [done, result] : batch.done) done(std::move(result));
}

void Publisher::SendTest(ConfigPtr config, TestDone done) {
  store::PublishRequest request;
  store::Event& event = request.event;
  event.id = NewId(clock_, random_);
  event.organization_id = config->record.organization_id;
  event.event_type = "webhook.test";
  event.created_at = clock_.Now();
  boost::json::value data = boost::json::object{
      {"message", "This is a test event from ulak."}, {"webhook_id", config->record.id}, {"test", true}};
  boost::json::value metadata = boost::json::object();
  if (config->template_config != nullptr) {
    // A CRM template maps order fields: its test sends seed 001's example order.
    const boost::json::object example = shape::SeedExampleOrderEvent();
    data = example.at("data");
    metadata = example.at("metadata");
  }
  event.payload = RenderPayload(event.event_type, event.created_at, event.organization_id, data, metadata);
  request.deliveries.push_back(NewDelivery(event, config->record.id, NewId(clock_, random_), engine_.options()));

  writer_.Publish(std::move(request), [this, config, done = std::move(done)](Result<store::PublishResult>&& result) {
    if (!result.ok()) {
      done(result.status());
      return;
    }
    engine_.SendNow(config,
                    PendingFor(result->event, result->deliveries.front(),
                               std::make_shared<const std::string>(std::move(result->event.payload))),
                    [done](store::Attempt&& attempt) { done(std::move(attempt)); });
  });
}

}  // namespace ulak::delivery
