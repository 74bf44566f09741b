#include "delivery/shaped_request.h"

#include <strings.h>

#include "shape/json_number.h"

namespace ulak::delivery {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool Has(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (SameName(h.first, name)) return true;
  }
  return false;
}

// Step 1: only the selected parts of `data`.
void SelectFields(const WebhookConfig& config, boost::json::value& payload) {
  if (config.fields == nullptr || !payload.is_object()) return;
  boost::json::object& o = payload.get_object();
  if (boost::json::value* data = o.if_contains("data")) *data = config.fields->Apply(*data);
}

// Step 2: (payload, params) → method, url, headers, body. Without a template, ulak's payload
// to the webhook's url.
Status ApplyTemplate(const WebhookConfig& config, ShapedRequest& out, boost::json::value& payload) {
  out.url = config.record.url;
  if (config.template_config == nullptr) return Status::Ok();
  if (!payload.is_object()) return InvalidArgument("The event's payload is not a JSON object.");
  Result<shape::TemplateRequest> r = shape::RenderTemplate(*config.template_config, config.record.url,
                                                           payload.as_object());
  if (!r.ok()) return InvalidArgument("Template " + config.template_config->name + ": " + r.status().message());
  out.method = std::move(r->method);
  out.url = std::move(r->url);
  out.headers = std::move(r->headers);
  out.credential_header = std::move(r->credential_header);
  out.credential_prefix = std::move(r->credential_prefix);
  payload = std::move(r->body);
  return Status::Ok();
}

// Step 3: the script's say on method, url, headers and payload; false when it returns nil.
// The script sees the headers the webhook would send (the template's, then the custom ones,
// which win), never the credential, which is added after it at send time.
Result<bool> Transform(const WebhookConfig& config, shape::NumberDigits& digits, ShapedRequest& out,
                       boost::json::value& payload) {
  if (config.transform == nullptr) return true;
  shape::KeepLargeIntegers(payload, digits);  // Lua numbers are int64 or double
  shape::ShapedRequest in;
  in.method = out.method;
  in.url = out.url;
  for (const auto& h : out.headers) {
    if (!Has(config.custom_headers, h.first)) in.headers.push_back(h);
  }
  for (const auto& h : config.custom_headers) in.headers.push_back(h);
  in.payload = std::move(payload);
  ULAK_ASSIGN_OR_RETURN(std::optional<shape::ShapedRequest> result, shape::RunTransform(*config.transform, in));
  if (!result) return false;
  out.method = std::move(result->method);
  out.url = std::move(result->url);
  out.headers = std::move(result->headers);
  out.headers_final = true;
  payload = std::move(result->payload);
  return true;
}

}  // namespace

bool NeedsShaping(const WebhookConfig& config) {
  return config.template_config != nullptr || config.fields != nullptr || config.transform != nullptr;
}

Result<ShapedRequest> ShapeRequest(const WebhookConfig& config, const std::string& payload) {
  Result<shape::ParsedJson> parsed = shape::ParseJsonKeepingDigits(payload);
  if (!parsed.ok()) return InvalidArgument("The event's stored body does not parse: " + parsed.status().message());
  ShapedRequest out;
  boost::json::value body = std::move(parsed->value);
  SelectFields(config, body);
  ULAK_RETURN_IF_ERROR(ApplyTemplate(config, out, body));
  ULAK_ASSIGN_OR_RETURN(bool send, Transform(config, parsed->digits, out, body));
  if (!send) {
    out.skip = true;
    return out;
  }
  out.body = std::make_shared<const std::string>(shape::SerializeJson(body, &parsed->digits));
  return out;
}

SignedRequest SignShapedRequest(const WebhookConfig& config, const std::string& delivery_id,
                                const ShapedRequest& shaped, std::string_view credential, TimePoint now) {
  SignedRequest out;
  OutgoingRequest& r = out.request;
  r.url = shaped.url;
  r.method = shaped.method;
  r.shared_body = shaped.body;
  r.timeout = std::chrono::seconds(config.record.timeout_seconds);
  r.headers.reserve(8 + shaped.headers.size() + config.custom_headers.size());
  // A transform may set these two; templates and the custom headers the API takes never do.
  if (!shaped.headers_final || !Has(shaped.headers, "Content-Type")) {
    r.headers.emplace_back("Content-Type", "application/json");
  }
  if (!shaped.headers_final || !Has(shaped.headers, "User-Agent")) {
    r.headers.emplace_back("User-Agent", "ulak/" ULAK_VERSION);
  }
  // Custom headers win over a template header of the same name; after a transform, its
  // headers are final (they started from the custom ones).
  const Headers& custom = shaped.headers_final ? shaped.headers : config.custom_headers;
  for (const auto& h : shaped.headers) {
    if (shaped.headers_final || !Has(custom, h.first)) r.headers.push_back(h);
  }
  if (!shaped.credential_header.empty() && !credential.empty() && !Has(custom, shaped.credential_header)) {
    r.headers.emplace_back(shaped.credential_header, shaped.credential_prefix + std::string(credential));
  }
  if (!shaped.headers_final) {
    for (const auto& h : config.custom_headers) r.headers.push_back(h);
  }
  // Neither custom nor transformed headers collide with the signature headers: both are refused.
  AddSignatureHeaders(config, delivery_id, *shaped.body, now, out);
  return out;
}

}  // namespace ulak::delivery
