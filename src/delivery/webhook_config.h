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
#include "crypto/hmac_key.h"
#include "delivery/retry_policy.h"
#include "shape/templates/template.h"
#include "shape/fields.h"
#include "shape/filter.h"
#include "shape/lua_transform.h"
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
  // HMAC keys prepared once per configuration, not hex-decoded and re-keyed per try:
  // X-Webhook-Signature's (seed 001: keyed with the secret_key string itself), then Standard
  // Webhooks' v1 (keyed with the bytes secret_key encodes; for "hmac" only), and the previous
  // secret's v1 during a rotation (when previous_secret_key is set). Null when absent; the
  // signer falls back to the record's strings for a config not made by ParseWebhookConfig.
  std::shared_ptr<const crypto::HmacSha256Key> seed001_key;
  std::shared_ptr<const crypto::HmacSha256Key> standard_key;
  std::shared_ptr<const crypto::HmacSha256Key> previous_standard_key;

  // CRM template (issue 12). Null without a template or with "custom" (ulak's own payload),
  // so such a webhook keeps the plain path.
  std::shared_ptr<const shape::TemplateConfig> template_config;
  shape::TemplateAuth template_auth;  // opened credentials (the store seals them at rest)
  std::string template_token_url;     // the auth's token_url, else the template's default
  std::string template_token_key;     // OAuthTokens' cache key: webhook id + credentials digest

  bool Subscribes(std::string_view event_type) const;

  // Delivery shaping, issue 13 (src/shape/): filters, field selection, Lua transformations.
  // Null when unused; a webhook with no fields and no transform keeps the shared body.
  std::shared_ptr<const shape::Filter> filter;          // checked at publish
  std::shared_ptr<const shape::FieldSelection> fields;  // parts of `data` sent
  std::shared_ptr<const shape::LuaProgram> transform;   // run at send time
};

Result<std::shared_ptr<const WebhookConfig>> ParseWebhookConfig(store::Webhook record);

// JSON forms kept in the store (store::Webhook::*_json).
std::string RetryPolicyToJson(const RetryPolicy& policy);
Result<RetryPolicy> RetryPolicyFromJson(std::string_view json);

}  // namespace ulak::delivery
