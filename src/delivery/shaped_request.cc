#include "delivery/shaped_request.h"

#include <strings.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ulak::delivery {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The template step: (payload, params) → method, url, headers, body. Without a template
// (a webhook shaped by other steps only), ulak's payload to the webhook's url.
Result<shape::TemplateRequest> ApplyTemplate(const WebhookConfig& config, const boost::json::object& payload) {
  if (config.template_config == nullptr) {
    shape::TemplateRequest plain;
    plain.url = config.record.url;
    plain.body = payload;
    return plain;
  }
  Result<shape::TemplateRequest> r = shape::RenderTemplate(*config.template_config, config.record.url, payload);
  if (!r.ok()) return InvalidArgument("Template " + config.template_config->name + ": " + r.status().message());
  return r;
}

}  // namespace

bool NeedsShaping(const WebhookConfig& config) { return config.template_config != nullptr; }

Result<ShapedRequest> ShapeRequest(const WebhookConfig& config, const std::string& payload) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(payload, ec);
  if (ec || !parsed.is_object()) return InvalidArgument("The event's payload is not a JSON object.");
  ULAK_ASSIGN_OR_RETURN(shape::TemplateRequest rendered, ApplyTemplate(config, parsed.as_object()));
  ShapedRequest out;
  out.method = std::move(rendered.method);
  out.url = std::move(rendered.url);
  out.headers = std::move(rendered.headers);
  out.body = boost::json::serialize(rendered.body);
  out.credential_header = std::move(rendered.credential_header);
  out.credential_prefix = std::move(rendered.credential_prefix);
  return out;
}

SignedRequest SignShapedRequest(const WebhookConfig& config, const std::string& delivery_id,
                                const ShapedRequest& shaped, std::string_view credential, TimePoint now) {
  SignedRequest out;
  OutgoingRequest& r = out.request;
  r.url = shaped.url;
  r.method = shaped.method;
  r.body = shaped.body;
  r.timeout = std::chrono::seconds(config.record.timeout_seconds);
  r.headers.reserve(8 + shaped.headers.size() + config.custom_headers.size());
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("User-Agent", "ulak/" ULAK_VERSION);
  auto custom_has = [&config](std::string_view name) {
    for (const auto& h : config.custom_headers) {
      if (SameName(h.first, name)) return true;
    }
    return false;
  };
  for (const auto& h : shaped.headers) {
    if (!custom_has(h.first)) r.headers.push_back(h);
  }
  if (!shaped.credential_header.empty() && !credential.empty() && !custom_has(shaped.credential_header)) {
    r.headers.emplace_back(shaped.credential_header, shaped.credential_prefix + std::string(credential));
  }
  for (const auto& h : config.custom_headers) r.headers.push_back(h);
  AddSignatureHeaders(config, delivery_id, r.body, now, out);
  return out;
}

}  // namespace ulak::delivery
