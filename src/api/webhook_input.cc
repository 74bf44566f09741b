#include "api/webhook_input.h"

#include <strings.h>

#include <boost/json/array.hpp>
#include <boost/url/parse.hpp>

#include "api/header_mask.h"
#include "api/json_io.h"
#include "delivery/retry_policy.h"
#include "delivery/webhook_config.h"
#include "shape/templates/template.h"
#include "shape/fields.h"
#include "shape/filter.h"
#include "shape/json_number.h"
#include "shape/lua_transform.h"

namespace ulak::api {
namespace {

constexpr size_t kMaxUrlLength = 2048;
constexpr size_t kMaxEvents = 100;
constexpr size_t kMaxHeaders = 30;

Status Invalid(std::string_view field, std::string message) {
  return InvalidArgument(std::move(message)).WithField(std::string(field));
}

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

bool ValidEventType(std::string_view t, bool allow_wildcard) {
  if (allow_wildcard && t == "*") return true;
  if (allow_wildcard && t.size() > 2 && t.substr(t.size() - 2) == ".*") t.remove_suffix(2);
  if (t.empty() || t.size() > 200) return false;
  bool segment_empty = true;
  for (char c : t) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == ':' || c == '/') {  // '/': Shopify topics such as "orders/create"
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

namespace {

Status CheckUrl(const std::string& url, Mode mode) {
  if (url.size() > kMaxUrlLength) return Invalid("url", "url must be at most 2048 characters long.");
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Invalid("url", "url must be a valid absolute http(s) URL.");
  const std::string scheme(parsed->scheme());
  if (scheme != "http" && scheme != "https") return Invalid("url", "url must use http or https.");
  if (parsed->host().empty()) return Invalid("url", "url must name a host.");
  if (mode == Mode::kProduction && scheme != "https") {
    return Invalid("url", "url must use https in production mode.");
  }
  if (parsed->has_userinfo()) return Invalid("url", "url must not carry credentials; use custom_headers.");
  return Status::Ok();
}

Result<std::string> ParseEvents(const boost::json::value& v) {
  if (!v.is_array()) return Invalid("events", "events must be an array of event types.");
  const boost::json::array& a = v.as_array();
  if (a.empty()) return Invalid("events", "events must not be empty.");
  if (a.size() > kMaxEvents) return Invalid("events", "events may list at most 100 types.");
  for (const auto& e : a) {
    if (!e.is_string() || !ValidEventType(std::string_view(e.as_string()), true)) {
      return Invalid("events",
                     "events must hold event types such as \"order.created\", wildcards such as \"order.*\", or \"*\".");
    }
  }
  return shape::SerializeJson(a);
}

Result<std::string> ParseCustomHeaders(const boost::json::value& v) {
  if (!v.is_object()) return Invalid("custom_headers", "custom_headers must be an object of header names to values.");
  const boost::json::object& o = v.as_object();
  if (o.size() > kMaxHeaders) return Invalid("custom_headers", "custom_headers may hold at most 30 headers.");
  static constexpr const char* kReserved[] = {
      "x-webhook-signature", "webhook-id", "webhook-timestamp", "webhook-signature", "content-type",
      "content-length", "transfer-encoding", "host", "connection", "user-agent", "expect"};
  for (const auto& [name, value] : o) {
    const std::string_view n(name.data(), name.size());
    if (n.empty() || n.size() > 256 || !std::all_of(n.begin(), n.end(), IsTokenChar)) {
      return Invalid("custom_headers", "custom_headers: '" + std::string(n) + "' is not a valid header name.");
    }
    for (const char* reserved : kReserved) {
      if (n.size() == strlen(reserved) && strncasecmp(n.data(), reserved, n.size()) == 0) {
        return Invalid("custom_headers", "custom_headers cannot set " + std::string(n) +
                                             ": ulak sets the signature and content headers itself.");
      }
    }
    if (!value.is_string()) return Invalid("custom_headers", "custom_headers: the value of " + std::string(n) + " must be a string.");
    const std::string_view val(value.as_string().data(), value.as_string().size());
    if (val.size() > 8192 || val.find_first_of("\r\n", 0) != std::string_view::npos ||
        val.find('\0') != std::string_view::npos) {
      return Invalid("custom_headers", "custom_headers: the value of " + std::string(n) +
                                           " must not contain CR, LF or NUL and must be at most 8192 bytes.");
    }
  }
  return shape::SerializeJson(o);
}

Result<double> Number(const boost::json::object& o, std::string_view key, double def, double min, double max) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return def;
  const std::string field = "retry_policy." + std::string(key);
  if (!v->is_number()) return Invalid(field, field + " must be a number.");
  boost::system::error_code ec;
  const double d = v->to_number<double>(ec);
  if (ec || d < min || d > max) {
    return Invalid(field, field + " must be between " + shape::SerializeJson(boost::json::value(min)) + " and " +
                              shape::SerializeJson(boost::json::value(max)) + ".");
  }
  return d;
}

Result<std::string> ParseRetryPolicy(const boost::json::value& v) {
  if (!v.is_object()) return Invalid("retry_policy", "retry_policy must be an object with a kind.");
  const boost::json::object& o = v.as_object();
  const boost::json::value* kind = o.if_contains("kind");
  if (kind == nullptr || !kind->is_string()) {
    return Invalid("retry_policy.kind", "retry_policy.kind must be \"fixed\", \"exponential\" or \"custom\".");
  }
  delivery::RetryPolicy p;
  const std::string_view k(kind->as_string().data(), kind->as_string().size());
  if (k == "fixed" || k == "custom") {
    if (k == "custom") p.kind = delivery::RetryPolicy::Kind::kCustom;
    const boost::json::value* delays = o.if_contains("delays_s");
    if (delays == nullptr && k == "custom") return Invalid("retry_policy.delays_s", "retry_policy.delays_s is required.");
    if (delays != nullptr) {
      if (!delays->is_array() || delays->as_array().empty() || delays->as_array().size() > 20) {
        return Invalid("retry_policy.delays_s", "retry_policy.delays_s must be a list of 1 to 20 delays in seconds.");
      }
      p.delays_s.clear();
      for (const auto& d : delays->as_array()) {
        if (!d.is_int64() || d.as_int64() < 0 || d.as_int64() > 7 * 86400) {
          return Invalid("retry_policy.delays_s", "retry_policy.delays_s must hold whole seconds from 0 to 604800.");
        }
        p.delays_s.push_back(d.as_int64());
      }
    }
  } else if (k == "exponential") {
    p.kind = delivery::RetryPolicy::Kind::kExponential;
    ULAK_ASSIGN_OR_RETURN(p.initial_s, Number(o, "initial_s", 1, 0.001, 86400));
    ULAK_ASSIGN_OR_RETURN(p.multiplier, Number(o, "multiplier", 2, 1, 10));
    ULAK_ASSIGN_OR_RETURN(p.max_delay_s, Number(o, "max_delay_s", 60, 0.001, 7 * 86400));
    ULAK_ASSIGN_OR_RETURN(double attempts, Number(o, "max_attempts", 5, 1, 20));
    if (attempts != static_cast<int>(attempts)) {
      return Invalid("retry_policy.max_attempts", "retry_policy.max_attempts must be a whole number.");
    }
    p.max_attempts = static_cast<int>(attempts);
  } else {
    return Invalid("retry_policy.kind", "retry_policy.kind must be \"fixed\", \"exponential\" or \"custom\".");
  }
  return delivery::RetryPolicyToJson(p);
}

// The "template" field (issue 12): validated into the stored JSON and credentials. A PATCH
// naming the same template without new credentials keeps the stored ones.
Status ApplyTemplate(const boost::json::value& v, Mode mode, store::Webhook& next) {
  if (v.is_null()) {
    next.template_json.clear();
    next.template_auth_json.clear();
    return Status::Ok();
  }
  ULAK_ASSIGN_OR_RETURN(shape::TemplateConfig config, shape::ParseTemplate(v));
  const shape::TemplateSpec* spec = shape::FindTemplate(config.name);
  const boost::json::object& o = v.as_object();
  ULAK_ASSIGN_OR_RETURN(shape::TemplateAuth auth, shape::ParseTemplateAuth(*spec, o));
  if (!auth.token_url.empty() && mode == Mode::kProduction && auth.token_url.rfind("https://", 0) != 0) {
    return Invalid("template.auth.token_url", "template.auth.token_url must use https in production mode.");
  }
  std::string previous_name;
  if (!next.template_json.empty()) {
    Result<shape::TemplateConfig> previous = shape::TemplateConfigFromJson(next.template_json);
    if (previous.ok()) previous_name = previous->name;
  }
  const bool keep_credentials = auth.kind == shape::TemplateAuth::Kind::kNone && !o.contains("auth") &&
                                previous_name == config.name;
  next.template_json = shape::TemplateToJson(o);
  if (!keep_credentials) next.template_auth_json = shape::TemplateAuthToJson(auth);
  return Status::Ok();
}

}  // namespace

Result<std::string> ParseFilter(const boost::json::value& v) {
  ULAK_RETURN_IF_ERROR(shape::Filter::Compile(v, "filter").status());
  return shape::SerializeJson(v);
}

Result<std::string> ParseFields(const boost::json::value& v) {
  ULAK_RETURN_IF_ERROR(shape::FieldSelection::Compile(v, "fields").status());
  return shape::SerializeJson(v);
}

Result<std::string> ParseTransform(const boost::json::value& v) {
  const boost::json::value* lua = v.is_object() ? v.get_object().if_contains("lua") : nullptr;
  if (lua == nullptr || !lua->is_string() || v.get_object().size() != 1) {
    return Invalid("transform", "transform must be {\"lua\": \"<source defining function transform(webhook)>\"}.");
  }
  const std::string source(lua->get_string());
  ULAK_RETURN_IF_ERROR(shape::LuaProgram::Compile(source, {}, "transform.lua").status());
  return source;
}

std::string DefaultRetryPolicyJson() { return delivery::RetryPolicyToJson(delivery::RetryPolicy{}); }

Status ApplyWebhookFields(const boost::json::object& body, Mode mode, bool creating, store::Webhook& w) {
  // Everything is validated into locals first, and applied only when all of it holds.
  store::Webhook next = w;
  if (creating || body.contains("name")) {
    ULAK_ASSIGN_OR_RETURN(next.name, RequireString(body, "name", 200));
    if (next.name.find_first_not_of(" \t\r\n") == std::string::npos) return Invalid("name", "name must not be blank.");
  }
  if (const boost::json::value* v = body.if_contains("template")) ULAK_RETURN_IF_ERROR(ApplyTemplate(*v, mode, next));
  // A template with a default API base (HubSpot, Zoho) makes url optional on create.
  const shape::TemplateSpec* spec = nullptr;
  if (!next.template_json.empty()) {
    Result<shape::TemplateConfig> t = shape::TemplateConfigFromJson(next.template_json);
    if (t.ok()) spec = shape::FindTemplate(t->name);
  }
  if (creating && !body.contains("url") && spec != nullptr && !spec->default_url.empty()) {
    next.url = spec->default_url;
  } else if (creating || body.contains("url")) {
    ULAK_ASSIGN_OR_RETURN(next.url, RequireString(body, "url", kMaxUrlLength));
    ULAK_RETURN_IF_ERROR(CheckUrl(next.url, mode));
  }
  if (const boost::json::value* v = body.if_contains("events"); v != nullptr || creating) {
    if (v == nullptr) return Invalid("events", "events is required.");
    ULAK_ASSIGN_OR_RETURN(next.events_json, ParseEvents(*v));
  }
  if (const boost::json::value* v = body.if_contains("custom_headers"); v != nullptr && !v->is_null()) {
    ULAK_ASSIGN_OR_RETURN(std::string headers, ParseCustomHeaders(*v));
    ULAK_ASSIGN_OR_RETURN(next.custom_headers_json, KeepMaskedHeaders(headers, w.custom_headers_json));
  }
  if (const boost::json::value* v = body.if_contains("retry_policy"); v != nullptr && !v->is_null()) {
    ULAK_ASSIGN_OR_RETURN(next.retry_policy_json, ParseRetryPolicy(*v));
  }
  ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> timeout, OptionalInt(body, "timeout_seconds", 1, 60));
  if (timeout) next.timeout_seconds = static_cast<int>(*timeout);
  ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> retries, OptionalInt(body, "max_retries", 0, 10));
  if (retries) next.max_retries = static_cast<int>(*retries);
  ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> in_flight, OptionalInt(body, "max_in_flight", 1, 256));
  if (in_flight) next.max_in_flight = static_cast<int>(*in_flight);
  ULAK_ASSIGN_OR_RETURN(std::optional<bool> retry_enabled, OptionalBool(body, "retry_enabled"));
  if (retry_enabled) next.retry_enabled = *retry_enabled;
  ULAK_ASSIGN_OR_RETURN(std::optional<bool> active, OptionalBool(body, "is_active"));
  if (active) {
    if (*active && !next.is_active) {  // re-enabled: the old failure streak no longer counts
      next.disabled_reason.clear();
      next.disabled_at.reset();
      next.consecutive_failures = 0;
      next.first_failure_at.reset();
    }
    next.is_active = *active;
  }
  if (const boost::json::value* v = body.if_contains("rate_limit_per_s"); v != nullptr) {
    if (v->is_null()) {
      next.rate_limit_per_s.reset();
    } else {
      ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> rate, OptionalInt(body, "rate_limit_per_s", 1, 100000));
      next.rate_limit_per_s = static_cast<int>(*rate);
    }
  }
  // Shaping (SPEC §7): null removes; anything else is checked (and compiled) before it is kept.
  if (const boost::json::value* v = body.if_contains("filter"); v != nullptr) {
    if (v->is_null()) {
      next.filter_json.clear();
    } else {
      ULAK_ASSIGN_OR_RETURN(next.filter_json, ParseFilter(*v));
    }
  }
  if (const boost::json::value* v = body.if_contains("fields"); v != nullptr) {
    if (v->is_null()) {
      next.fields_json.clear();
    } else {
      ULAK_ASSIGN_OR_RETURN(next.fields_json, ParseFields(*v));
    }
  }
  if (const boost::json::value* v = body.if_contains("transform"); v != nullptr) {
    if (v->is_null()) {
      next.transform_lua.clear();
    } else {
      ULAK_ASSIGN_OR_RETURN(next.transform_lua, ParseTransform(*v));
    }
  }
  ULAK_ASSIGN_OR_RETURN(std::optional<bool> gone, OptionalBool(body, "disable_on_gone"));
  if (gone) next.disable_on_gone = *gone;
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> scheme, OptionalString(body, "signature_scheme", 16));
  if (scheme) {
    if (*scheme != "hmac" && *scheme != "ed25519") {
      return Invalid("signature_scheme", "signature_scheme must be \"hmac\" or \"ed25519\".");
    }
    next.signature_scheme = *scheme;  // the caller creates or drops the Ed25519 keys
  }
  ULAK_ASSIGN_OR_RETURN(std::optional<bool> ordered, OptionalBool(body, "ordered"));
  if (ordered) next.ordered = *ordered;
  w = std::move(next);
  return Status::Ok();
}

}  // namespace ulak::api
