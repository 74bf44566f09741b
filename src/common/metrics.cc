#include "common/metrics.h"

#include <algorithm>

namespace ulak {

Metrics& Metrics::Instance() {
  static Metrics metrics;
  return metrics;
}

void Metrics::CountHttpResponse(int status) {
  const int cls = status / 100;
  http_by_class_[(cls >= 1 && cls <= 5) ? cls - 1 : 5].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountPublished(int deliveries, bool duplicate) {
  if (duplicate) {
    events_duplicate_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  events_published_.fetch_add(1, std::memory_order_relaxed);
  deliveries_created_.fetch_add(static_cast<uint64_t>(deliveries), std::memory_order_relaxed);
}

void Metrics::CountAttempt(AttemptResult result, int64_t response_time_ms) {
  attempts_[static_cast<size_t>(result)].fetch_add(1, std::memory_order_relaxed);
  size_t bucket = 0;
  while (bucket < kLatencyBucketsMs.size() && response_time_ms > kLatencyBucketsMs[bucket]) ++bucket;
  latency_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ms_.fetch_add(static_cast<uint64_t>(response_time_ms < 0 ? 0 : response_time_ms),
                            std::memory_order_relaxed);
}

void Metrics::CountIncoming(IncomingResult result) {
  incoming_[static_cast<size_t>(result)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountFiltered(int deliveries) {
  deliveries_filtered_.fetch_add(static_cast<uint64_t>(deliveries), std::memory_order_relaxed);
}

void Metrics::CountSkipped() { deliveries_skipped_.fetch_add(1, std::memory_order_relaxed); }

void Metrics::CountBreaker(bool opened) {
  if (opened) breaker_opened_.fetch_add(1, std::memory_order_relaxed);
  webhooks_paused_.fetch_add(opened ? 1 : -1, std::memory_order_relaxed);
}

std::string Metrics::Render(uint64_t deliveries_held) const {
  std::string out;
  auto line = [&out](const std::string& name, uint64_t value) {
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  };
  out += "# HELP ulak_http_responses_total HTTP responses by status class.\n# TYPE ulak_http_responses_total counter\n";
  static constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
  for (size_t i = 0; i < http_by_class_.size(); ++i) {
    line(std::string("ulak_http_responses_total{class=\"") + kClasses[i] + "\"}", http_by_class_[i].load());
  }
  out += "# HELP ulak_events_published_total Events accepted by POST /api/events and incoming webhooks.\n"
         "# TYPE ulak_events_published_total counter\n";
  line("ulak_events_published_total", events_published_.load());
  out += "# HELP ulak_events_duplicate_total Publishes answered from an earlier event (idempotency).\n"
         "# TYPE ulak_events_duplicate_total counter\n";
  line("ulak_events_duplicate_total", events_duplicate_.load());
  out += "# HELP ulak_deliveries_created_total Deliveries created by publishes.\n"
         "# TYPE ulak_deliveries_created_total counter\n";
  line("ulak_deliveries_created_total", deliveries_created_.load());
  out += "# HELP ulak_deliveries_filtered_total Deliveries not created because a webhook's filter did not match.\n"
         "# TYPE ulak_deliveries_filtered_total counter\n";
  line("ulak_deliveries_filtered_total", deliveries_filtered_.load());
  out += "# HELP ulak_deliveries_skipped_total Deliveries a webhook's transform skipped (returned nil).\n"
         "# TYPE ulak_deliveries_skipped_total counter\n";
  line("ulak_deliveries_skipped_total", deliveries_skipped_.load());
  out += "# HELP ulak_delivery_attempts_total Delivery attempts by result.\n"
         "# TYPE ulak_delivery_attempts_total counter\n";
  static constexpr const char* kResults[] = {"success", "retrying", "failed"};
  for (size_t i = 0; i < attempts_.size(); ++i) {
    line(std::string("ulak_delivery_attempts_total{result=\"") + kResults[i] + "\"}", attempts_[i].load());
  }
  out += "# HELP ulak_delivery_attempt_duration_ms Time from send to answer (or error) of an attempt.\n"
         "# TYPE ulak_delivery_attempt_duration_ms histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBucketsMs.size(); ++i) {
    cumulative += latency_buckets_[i].load();
    line("ulak_delivery_attempt_duration_ms_bucket{le=\"" + std::to_string(kLatencyBucketsMs[i]) + "\"}", cumulative);
  }
  cumulative += latency_buckets_.back().load();
  line("ulak_delivery_attempt_duration_ms_bucket{le=\"+Inf\"}", cumulative);
  line("ulak_delivery_attempt_duration_ms_sum", latency_sum_ms_.load());
  line("ulak_delivery_attempt_duration_ms_count", cumulative);
  out += "# HELP ulak_incoming_requests_total Incoming webhook requests by outcome.\n"
         "# TYPE ulak_incoming_requests_total counter\n";
  static constexpr const char* kIncoming[] = {"accepted", "duplicate", "rejected"};
  for (size_t i = 0; i < incoming_.size(); ++i) {
    line(std::string("ulak_incoming_requests_total{status=\"") + kIncoming[i] + "\"}", incoming_[i].load());
  }
  out += "# HELP ulak_webhook_pauses_total Times a webhook's circuit breaker opened (its endpoint stopped answering).\n"
         "# TYPE ulak_webhook_pauses_total counter\n";
  line("ulak_webhook_pauses_total", breaker_opened_.load());
  out += "# HELP ulak_webhooks_paused Webhooks whose deliveries wait for their endpoint to answer a probe.\n"
         "# TYPE ulak_webhooks_paused gauge\n";
  line("ulak_webhooks_paused", static_cast<uint64_t>(std::max<int64_t>(0, webhooks_paused_.load())));
  out += "# HELP ulak_outcomes_dead_lettered_total Attempt outcomes the store kept rejecting, parked in dead_outcomes.\n"
         "# TYPE ulak_outcomes_dead_lettered_total counter\n";
  line("ulak_outcomes_dead_lettered_total", dead_outcomes_.load());
  out += "# HELP ulak_connections_refused_total Connections closed at once because max_connections were open.\n"
         "# TYPE ulak_connections_refused_total counter\n";
  line("ulak_connections_refused_total", connections_refused_.load());
  out += "# HELP ulak_deliveries_held Deliveries queued, waiting for a retry or in flight on this node.\n"
         "# TYPE ulak_deliveries_held gauge\n";
  line("ulak_deliveries_held", deliveries_held);
  return out;
}

}  // namespace ulak
