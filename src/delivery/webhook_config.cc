#include "delivery/webhook_config.h"

#include "common/event_pattern.h"
#include "crypto/hash.h"
#include "delivery/signer.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "shape/json_number.h"

namespace ulak::delivery {

bool WebhookConfig::Subscribes(std::string_view event_type) const {
  for (const std::string& p : events) {
    if (EventMatches(p, event_type)) return true;
  }
  return false;
}

std::string RetryPolicyToJson(const RetryPolicy& policy) {
  boost::json::object o;
  if (policy.kind == RetryPolicy::Kind::kExponential) {
    o["kind"] = "exponential";
    o["initial_s"] = policy.initial_s;
    o["multiplier"] = policy.multiplier;
    o["max_delay_s"] = policy.max_delay_s;
    o["max_attempts"] = policy.max_attempts;
  } else {
    o["kind"] = policy.kind == RetryPolicy::Kind::kCustom ? "custom" : "fixed";
    boost::json::array delays;
    for (int64_t d : policy.delays_s) delays.push_back(d);
    o["delays_s"] = std::move(delays);
  }
  return shape::SerializeJson(o);
}

Result<RetryPolicy> RetryPolicyFromJson(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return Internal("stored retry policy is not a JSON object");
  const boost::json::object& o = v.as_object();
  RetryPolicy p;
  const boost::json::value* kind = o.if_contains("kind");
  if (kind != nullptr && kind->is_string() && kind->as_string() == "exponential") {
    p.kind = RetryPolicy::Kind::kExponential;
    if (auto* x = o.if_contains("initial_s")) p.initial_s = x->to_number<double>(ec);
    if (auto* x = o.if_contains("multiplier")) p.multiplier = x->to_number<double>(ec);
    if (auto* x = o.if_contains("max_delay_s")) p.max_delay_s = x->to_number<double>(ec);
    if (auto* x = o.if_contains("max_attempts")) p.max_attempts = x->to_number<int>(ec);
  } else if (kind != nullptr && kind->is_string() && kind->as_string() == "custom") {
    p.kind = RetryPolicy::Kind::kCustom;
  }
  if (p.kind != RetryPolicy::Kind::kExponential) {
    if (auto* delays = o.if_contains("delays_s"); delays != nullptr && delays->is_array()) {
      p.delays_s.clear();
      for (const auto& d : delays->as_array()) p.delays_s.push_back(d.to_number<int64_t>(ec));
    }
  }
  if (ec) return Internal("stored retry policy has a non-numeric field");
  return p;
}

Result<std::shared_ptr<const WebhookConfig>> ParseWebhookConfig(store::Webhook record) {
  auto config = std::make_shared<WebhookConfig>();
  boost::system::error_code ec;
  boost::json::value events = boost::json::parse(record.events_json, ec);
  if (ec || !events.is_array()) return Internal("stored events of webhook " + record.id + " are not a JSON array");
  for (const auto& e : events.as_array()) {
    if (e.is_string()) config->events.emplace_back(e.as_string());
  }
  boost::json::value headers = boost::json::parse(record.custom_headers_json, ec);
  if (ec || !headers.is_object()) {
    return Internal("stored custom headers of webhook " + record.id + " are not a JSON object");
  }
  for (const auto& [name, value] : headers.as_object()) {
    if (value.is_string()) config->custom_headers.emplace_back(std::string(name), std::string(value.as_string()));
  }
  ULAK_ASSIGN_OR_RETURN(config->retry_policy, RetryPolicyFromJson(record.retry_policy_json));
  if (!record.template_json.empty()) {
    ULAK_ASSIGN_OR_RETURN(shape::TemplateConfig parsed, shape::TemplateConfigFromJson(record.template_json));
    if (parsed.name != "custom") {
      ULAK_ASSIGN_OR_RETURN(config->template_auth, shape::TemplateAuthFromJson(record.template_auth_json));
      const shape::TemplateSpec* spec = shape::FindTemplate(parsed.name);
      config->template_token_url = config->template_auth.token_url.empty() && spec != nullptr
                                       ? spec->default_token_url
                                       : config->template_auth.token_url;
      config->template_token_key = record.id + ":" + crypto::Sha256Hex(record.template_auth_json);
      config->template_config = std::make_shared<const shape::TemplateConfig>(std::move(parsed));
    }
  }
  if (record.signature_scheme == "ed25519") {
    Result<crypto::Ed25519PrivateKey> key = ParseSigningKey(record.signing_key);
    if (!key.ok()) return Internal("stored signing key of webhook " + record.id + " is unusable: " + key.status().message());
    config->signing_key = std::make_shared<const crypto::Ed25519PrivateKey>(std::move(key).value());
    if (!record.previous_signing_key.empty()) {
      Result<crypto::Ed25519PrivateKey> previous = ParseSigningKey(record.previous_signing_key);
      if (!previous.ok()) {
        return Internal("stored previous signing key of webhook " + record.id + " is unusable: " +
                        previous.status().message());
      }
      config->previous_signing_key = std::make_shared<const crypto::Ed25519PrivateKey>(std::move(previous).value());
    }
  } else if (record.signature_scheme != "hmac") {
    return Internal("stored signature scheme of webhook " + record.id + " is unknown: " + record.signature_scheme);
  } else {
    config->standard_key = std::make_shared<const crypto::HmacSha256Key>(StandardWebhooksKey(record.secret_key));
    if (!record.previous_secret_key.empty()) {
      config->previous_standard_key =
          std::make_shared<const crypto::HmacSha256Key>(StandardWebhooksKey(record.previous_secret_key));
    }
  }
  config->seed001_key = std::make_shared<const crypto::HmacSha256Key>(record.secret_key);
  if (!record.filter_json.empty()) {
    boost::json::value spec = boost::json::parse(record.filter_json, ec);
    if (ec) return Internal("stored filter of webhook " + record.id + " is not JSON");
    Result<std::shared_ptr<const shape::Filter>> filter = shape::Filter::Compile(spec);
    if (!filter.ok()) return Internal("stored filter of webhook " + record.id + ": " + filter.status().message());
    config->filter = *filter;
  }
  if (!record.fields_json.empty()) {
    boost::json::value spec = boost::json::parse(record.fields_json, ec);
    if (ec) return Internal("stored fields of webhook " + record.id + " are not JSON");
    Result<std::shared_ptr<const shape::FieldSelection>> fields = shape::FieldSelection::Compile(spec);
    if (!fields.ok()) return Internal("stored fields of webhook " + record.id + ": " + fields.status().message());
    config->fields = *fields;
  }
  if (!record.transform_lua.empty()) {
    Result<std::shared_ptr<const shape::LuaProgram>> program = shape::LuaProgram::Compile(record.transform_lua);
    if (!program.ok()) {
      return Internal("stored transform of webhook " + record.id + ": " + program.status().message());
    }
    config->transform = *program;
  }
  config->record = std::move(record);
  return std::shared_ptr<const WebhookConfig>(std::move(config));
}

}  // namespace ulak::delivery
