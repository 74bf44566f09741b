// Process-wide counters for Prometheus (`GET /metrics`, SPEC §12). Lock-free: every hot path
// may count. Only aggregates: no organization, webhook or key ever becomes a label.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace ulak {

class Metrics {
 public:
  static Metrics& Instance();

  void CountHttpResponse(int status);
  void CountPublished(int deliveries, bool duplicate);
  enum class AttemptResult { kSuccess = 0, kRetrying = 1, kFailed = 2 };
  void CountAttempt(AttemptResult result, int64_t response_time_ms);
  enum class IncomingResult { kAccepted = 0, kDuplicate = 1, kRejected = 2 };
  void CountIncoming(IncomingResult result);
  // Shaping (SPEC §7): deliveries a filter kept from being created, and deliveries a
  // transform skipped (returned nil for).
  void CountFiltered(int deliveries);
  void CountSkipped();
  // A webhook's circuit breaker opened (its endpoint stopped answering) or closed again.
  void CountBreaker(bool opened);
  // The store writer parked an attempt outcome the store kept rejecting (a dead letter).
  void CountDeadOutcome() { dead_outcomes_.fetch_add(1, std::memory_order_relaxed); }
  // The HTTP server closed a connection at once: max_connections were already open.
  void CountConnectionRefused() { connections_refused_.fetch_add(1, std::memory_order_relaxed); }

  // The Prometheus text exposition format; `held` is the engine's current backlog.
  std::string Render(uint64_t deliveries_held) const;

  // Upper bounds (ms) of the attempt latency histogram.
  static constexpr std::array<int64_t, 10> kLatencyBucketsMs = {5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000};

 private:
  std::array<std::atomic<uint64_t>, 6> http_by_class_{};  // 1xx..5xx, other
  std::atomic<uint64_t> events_published_{0};
  std::atomic<uint64_t> events_duplicate_{0};
  std::atomic<uint64_t> deliveries_created_{0};
  std::array<std::atomic<uint64_t>, 3> attempts_{};
  std::array<std::atomic<uint64_t>, kLatencyBucketsMs.size() + 1> latency_buckets_{};  // + the +Inf bucket
  std::atomic<uint64_t> latency_sum_ms_{0};
  std::array<std::atomic<uint64_t>, 3> incoming_{};
  std::atomic<uint64_t> breaker_opened_{0};
  std::atomic<uint64_t> deliveries_filtered_{0};
  std::atomic<uint64_t> deliveries_skipped_{0};
  std::atomic<int64_t> webhooks_paused_{0};
  std::atomic<uint64_t> dead_outcomes_{0};
  std::atomic<uint64_t> connections_refused_{0};
};

}  // namespace ulak
