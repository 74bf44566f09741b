// A webhook's configuration parsed once into an immutable object the delivery engine shares
// (std::shared_ptr<const WebhookConfig>); a change builds a new one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "delivery/retry_policy.h"
#include "store/types.h"

namespace ulak::delivery {

struct WebhookConfig {
  store::Webhook record;
  std::vector<std::string> events;  // exact types, "prefix.*" wildcards, or "*"
  std::vector<std::pair<std::string, std::string>> custom_headers;
  RetryPolicy retry_policy;
  // signature_scheme "ed25519": the keys parsed once here, not per try (previous: only
  // during a rotation's grace period). Null for "hmac".
  std::shared_ptr<const crypto::Ed25519PrivateKey> signing_key;
  std::shared_ptr<const crypto::Ed25519PrivateKey> previous_signing_key;

  bool Subscribes(std::string_view event_type) const;
};

Result<std::shared_ptr<const WebhookConfig>> ParseWebhookConfig(store::Webhook record);

// JSON forms kept in the store (store::Webhook::*_json).
std::string RetryPolicyToJson(const RetryPolicy& policy);
Result<RetryPolicy> RetryPolicyFromJson(std::string_view json);

}  // namespace ulak::delivery
