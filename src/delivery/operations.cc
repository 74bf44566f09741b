#include "delivery/operations.h"

#include <boost/json/object.hpp>

#include "common/ids.h"
#include "common/log.h"
#include "common/thread_name.h"
#include "shape/json_number.h"

namespace ulak::delivery {
namespace {

constexpr int kRecoverPageSize = 500;

// With shared work, what this node requeues it also claims, so no other node sends it too.
std::optional<TimePoint> LeaseEnd(const EngineOptions& options, TimePoint now) {
  if (!options.SharedWork()) return std::nullopt;
  return now + options.lease;
}

Result<ConfigPtr> ActiveConfig(store::Store& store, const std::string& organization_id, const std::string& webhook_id) {
  ULAK_ASSIGN_OR_RETURN(store::Webhook w, store.GetWebhook(organization_id, webhook_id));
  if (!w.is_active) return AlreadyExists("Webhook " + w.id + " is disabled; enable it first.");
  return ParseWebhookConfig(std::move(w));
}

}  // namespace

DeliveryOperations::DeliveryOperations(store::Store& store, DeliveryEngine& engine, Publisher& publisher,
                                       const Clock& clock, Random& random)
    : store_(store), engine_(engine), publisher_(publisher), clock_(clock), random_(random),
      worker_([this] {
        SetCurrentThreadName("ulak-operations");
        RunJobs();
      }) {}

DeliveryOperations::~DeliveryOperations() { Stop(); }

void DeliveryOperations::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

Result<store::PendingDelivery> DeliveryOperations::RetryDelivery(const std::string& organization_id,
                                                                 const std::string& delivery_id) {
  ULAK_ASSIGN_OR_RETURN(store::PendingDelivery work, store_.GetDelivery(organization_id, delivery_id));
  if (work.delivery.status == store::DeliveryStatus::kPending ||
      work.delivery.status == store::DeliveryStatus::kRetrying) {
    return AlreadyExists("Delivery " + delivery_id + " is already scheduled; POST /api/webhooks/retry runs it now.");
  }
  ULAK_ASSIGN_OR_RETURN(ConfigPtr config, ActiveConfig(store_, work.delivery.organization_id, work.delivery.webhook_id));
  const TimePoint now = clock_.Now();
  const EngineOptions& claim = engine_.options();
  // Conditional in the store: of two concurrent retries exactly one requeues.
  ULAK_RETURN_IF_ERROR(store_.RequeueDelivery(work.delivery.id, now, claim.node_id, LeaseEnd(claim, now)));
  work.delivery.status = store::DeliveryStatus::kPending;
  work.delivery.next_attempt_at = now;
  engine_.Enqueue({{config, work}});
  return work;
}

Result<store::Delivery> DeliveryOperations::ResendEvent(const std::string& organization_id,
                                                        const std::string& event_id, const std::string& webhook_id) {
  ULAK_ASSIGN_OR_RETURN(store::Event event, store_.GetEvent(organization_id, event_id));
  ULAK_ASSIGN_OR_RETURN(ConfigPtr config, ActiveConfig(store_, event.organization_id, webhook_id));
  store::Delivery d;
  d.id = NewId(clock_, random_);
  d.event_id = event.id;
  d.webhook_id = config->record.id;
  d.organization_id = event.organization_id;
  d.status = store::DeliveryStatus::kPending;
  d.next_attempt_at = d.created_at = clock_.Now();
  d.claimed_by = engine_.options().node_id;
  d.lease_until = LeaseEnd(engine_.options(), d.created_at);
  ULAK_RETURN_IF_ERROR(store_.CreateDelivery(d));
  store::PendingDelivery work{d, event.event_type, event.event_id.empty() ? event.id : event.event_id,
                              std::make_shared<const std::string>(event.payload),
                              event.created_at};
  engine_.Enqueue({{config, std::move(work)}});
  return d;
}

Result<store::Job> DeliveryOperations::StartRecover(const std::string& organization_id, const std::string& webhook_id,
                                                    TimePoint since) {
  ULAK_ASSIGN_OR_RETURN(ConfigPtr config, ActiveConfig(store_, organization_id, webhook_id));
  store::Job job;
  job.id = NewId(clock_, random_);
  job.organization_id = config->record.organization_id;
  job.kind = "recover";
  job.status = "running";
  job.params_json = shape::SerializeJson(
      boost::json::object{{"webhook_config_id", webhook_id}, {"since", FormatRfc3339(since)}});
  job.created_at = job.updated_at = clock_.Now();
  ULAK_RETURN_IF_ERROR(store_.CreateJob(job));
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("The server is shutting down.");
    jobs_.push_back([this, job, webhook_id, since] { RunRecover(job, webhook_id, since); });
    wake_.notify_one();
  }
  return job;
}

void DeliveryOperations::RunJobs() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void DeliveryOperations::RunRecover(store::Job job, std::string webhook_id, TimePoint since) {
  Status failure;
  Result<ConfigPtr> config = ActiveConfig(store_, job.organization_id, webhook_id);
  if (!config.ok()) failure = config.status();
  // Collect first, then requeue: requeued deliveries stop being "failed", so paging over
  // the same query while changing it would skip rows.
  std::vector<store::PendingDelivery> failed;
  std::string after;
  while (failure.ok()) {
    Result<std::vector<store::PendingDelivery>> page = store_.ListFailedDeliveries(webhook_id, since, after, kRecoverPageSize);
    if (!page.ok()) {
      failure = page.status();
      break;
    }
    if (page->empty()) break;
    after = page->back().delivery.id;
    for (auto& p : *page) failed.push_back(std::move(p));
  }
  job.total = static_cast<int64_t>(failed.size());
  for (store::PendingDelivery& work : failed) {
    if (!failure.ok()) break;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    const TimePoint now = clock_.Now();
    Status s = store_.RequeueDelivery(work.delivery.id, now, engine_.options().node_id, LeaseEnd(engine_.options(), now));
    if (s.code() == ErrorCode::kAlreadyExists) continue;  // retried meanwhile by someone else
    if (!s.ok()) {
      failure = s;
      break;
    }
    work.delivery.status = store::DeliveryStatus::kPending;
    work.delivery.next_attempt_at = now;
    engine_.Enqueue({{*config, std::move(work)}});
    ++job.done;
    if (job.done % 100 == 0) {
      job.updated_at = clock_.Now();
      (void)store_.UpdateJob(job);
    }
  }
  job.status = failure.ok() ? "completed" : "failed";
  job.error = failure.ok() ? "" : failure.message();
  job.updated_at = clock_.Now();
  if (Status s = store_.UpdateJob(job); !s.ok()) Log(LogLevel::kError, "cannot record a job", {{"error", s.message()}});
}

void DeliveryOperations::DisableWebhook(const ConfigPtr& config, const std::string& reason) {
  const store::Webhook& w = config->record;
  const TimePoint now = clock_.Now();
  Status s = store_.DisableWebhook(w.id, reason, now);
  if (!s.ok()) {
    if (s.code() != ErrorCode::kNotFound) Log(LogLevel::kError, "cannot disable a webhook", {{"error", s.message()}});
    return;  // already disabled or deleted
  }
  engine_.RemoveWebhook(w.id);
  publisher_.InvalidateSubscriptions(w.organization_id);
  Log(LogLevel::kWarn, "webhook disabled", {{"webhook_id", w.id}, {"reason", reason}});
  // The disabled webhook is no longer active, so the event reaches only the others.
  PublishInput input;
  input.organization_id = w.organization_id;
  input.event_type = "webhook.disabled";
  input.event_id = "webhook.disabled:" + w.id + ":" + std::to_string(ToUnixMillis(now));
  input.data = boost::json::object{{"webhook_config_id", w.id},
                                   {"name", w.name},
                                   {"url", w.url},
                                   {"disabled_reason", reason},
                                   {"disabled_at", FormatRfc3339(now)}};
  input.metadata = boost::json::object{{"operational", true}};
  input.operational = true;
  publisher_.Publish(std::move(input), [](Result<store::PublishResult>&& r) {
    if (!r.ok()) Log(LogLevel::kError, "cannot publish webhook.disabled", {{"error", r.status().message()}});
  });
}

}  // namespace ulak::delivery
