#include "common/metrics.h"

#include <gtest/gtest.h>

namespace ulak {
namespace {

TEST(Metrics, RendersCountersAndACumulativeHistogram) {
  Metrics m;
  m.CountHttpResponse(202);
  m.CountHttpResponse(404);
  m.CountPublished(3, false);
  m.CountPublished(0, true);
  m.CountAttempt(Metrics::AttemptResult::kSuccess, 7);
  m.CountAttempt(Metrics::AttemptResult::kFailed, 40'000);
  m.CountIncoming(Metrics::IncomingResult::kRejected);
  m.CountBreaker(true);
  m.CountBreaker(true);
  m.CountBreaker(false);
  const std::string text = m.Render(12);
  EXPECT_NE(text.find("ulak_http_responses_total{class=\"2xx\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ulak_http_responses_total{class=\"4xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_events_published_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_events_duplicate_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_deliveries_created_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_delivery_attempts_total{result=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_delivery_attempt_duration_ms_bucket{le=\"5\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_delivery_attempt_duration_ms_bucket{le=\"10\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_delivery_attempt_duration_ms_bucket{le=\"30000\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_delivery_attempt_duration_ms_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_delivery_attempt_duration_ms_count 2\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_incoming_requests_total{status=\"rejected\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_deliveries_held 12\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_webhook_pauses_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("ulak_webhooks_paused 1\n"), std::string::npos);
}

}  // namespace
}  // namespace ulak
