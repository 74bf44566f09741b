#include "delivery/webhook_config.h"

#include <gtest/gtest.h>

namespace ulak::delivery {
namespace {

TEST(WebhookConfig, RetryPolicyKeepsItsKindThroughTheStore) {
  RetryPolicy custom;
  custom.kind = RetryPolicy::Kind::kCustom;
  custom.delays_s = {5, 10};
  Result<RetryPolicy> back = RetryPolicyFromJson(RetryPolicyToJson(custom));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->kind, RetryPolicy::Kind::kCustom);
  EXPECT_EQ(back->delays_s, (std::vector<int64_t>{5, 10}));
  EXPECT_NE(RetryPolicyToJson(custom).find(R"("kind":"custom")"), std::string::npos);

  RetryPolicy exponential;
  exponential.kind = RetryPolicy::Kind::kExponential;
  exponential.max_attempts = 7;
  back = RetryPolicyFromJson(RetryPolicyToJson(exponential));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->kind, RetryPolicy::Kind::kExponential);
  EXPECT_EQ(back->max_attempts, 7);
  EXPECT_EQ(RetryPolicyFromJson(RetryPolicyToJson(RetryPolicy{}))->delays_s, (std::vector<int64_t>{60, 300, 1800}));
}

TEST(WebhookConfig, SubscribesToExactTypesAndWildcards) {
  store::Webhook w;
  w.id = "w";
  w.events_json = R"(["order.*","user.created"])";
  w.custom_headers_json = R"({"X-API-Key":"k"})";
  w.retry_policy_json = RetryPolicyToJson(RetryPolicy{});
  Result<std::shared_ptr<const WebhookConfig>> config = ParseWebhookConfig(w);
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE((*config)->Subscribes("order.created"));
  EXPECT_TRUE((*config)->Subscribes("user.created"));
  EXPECT_FALSE((*config)->Subscribes("user.deleted"));
  ASSERT_EQ((*config)->custom_headers.size(), 1u);
  EXPECT_EQ((*config)->custom_headers[0].first, "X-API-Key");
}

}  // namespace
}  // namespace ulak::delivery
