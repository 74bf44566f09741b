#include "api/templates.h"

#include <boost/json/array.hpp>

#include "api/handler.h"
#include "api/json_io.h"
#include "shape/templates/template.h"

namespace ulak::api {
namespace {

constexpr char kRedacted[] = "[redacted]";

// The request a template renders, as previews show it: credentials redacted, the signature
// headers named but computed only at send time (they depend on the webhook's secret).
boost::json::object RequestJson(const shape::TemplateRequest& r) {
  boost::json::object headers{{"Content-Type", "application/json"}, {"User-Agent", "ulak/" ULAK_VERSION}};
  for (const auto& [name, value] : r.headers) headers[name] = value;
  if (!r.credential_header.empty()) headers[r.credential_header] = r.credential_prefix + kRedacted;
  for (const char* signed_at_send : {"X-Webhook-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"}) {
    headers[signed_at_send] = "(set at send time)";
  }
  return {{"method", r.method}, {"url", r.url}, {"headers", std::move(headers)}, {"body", r.body}};
}

std::string BaseUrlFor(const shape::TemplateSpec& spec) {
  return spec.default_url.empty() ? "https://INSTANCE.my.salesforce.com" : spec.default_url;
}

boost::json::object TemplateInfoJson(const shape::TemplateSpec& spec) {
  boost::json::array params;
  for (const shape::ParamSpec& p : spec.params) {
    params.push_back(boost::json::object{{"name", p.name},
                                         {"type", shape::ParamTypeName(p.type)},
                                         {"required", p.required},
                                         {"default", p.default_value},
                                         {"secret", p.secret},
                                         {"description", p.description}});
  }
  boost::json::object out{{"name", spec.name},
                          {"description", spec.description},
                          {"default_url", spec.default_url.empty() ? boost::json::value(nullptr)
                                                                    : boost::json::value(spec.default_url)},
                          {"params", std::move(params)}};
  boost::json::array auth;
  if (spec.takes_auth) {
    auth.push_back(boost::json::object{{"kind", "access_token"}, {"fields", boost::json::array{"access_token"}}});
    auth.push_back(boost::json::object{
        {"kind", "oauth2"},
        {"fields", boost::json::array{"refresh_token", "client_id", "client_secret", "token_url"}},
        {"token_url_default", spec.default_token_url}});
  }
  out["auth"] = std::move(auth);
  // The request for seed 001's example order with the default params.
  Result<shape::TemplateConfig> config = shape::ParseTemplate(boost::json::object{{"name", spec.name}});
  if (config.ok()) {
    Result<shape::TemplateRequest> r = shape::RenderTemplate(*config, BaseUrlFor(spec), shape::SeedExampleOrderEvent());
    if (r.ok()) {
      out["example_body"] = r->body;
      out["example_request"] = RequestJson(*r);
    }
  }
  return out;
}

Result<http::Response> ListTemplates() {
  boost::json::array items;
  for (const shape::TemplateSpec& spec : shape::TemplateLibrary()) items.push_back(TemplateInfoJson(spec));
  return JsonResponse(200, boost::json::object{{"templates", std::move(items)}});
}

Result<http::Response> Preview(ApiContext& ctx, const http::Request& request, const http::PathParams& params,
                               const Principal& principal) {
  const shape::TemplateSpec* spec = shape::FindTemplate(params.Get("name"));
  if (spec == nullptr) return NotFound("No template named '" + std::string(params.Get("name")) + "'.");
  boost::json::object body;
  if (!request.body.empty()) {
    ULAK_ASSIGN_OR_RETURN(body, ParseJsonObject(request.body));
  }
  boost::json::object template_field{{"name", spec->name}};
  if (const auto* p = body.if_contains("params")) template_field["params"] = *p;
  ULAK_ASSIGN_OR_RETURN(shape::TemplateConfig config, shape::ParseTemplate(template_field));
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> url, OptionalString(body, "url", 2048));

  boost::json::object payload = shape::SeedExampleOrderEvent();
  if (const auto* e = body.if_contains("event"); e != nullptr && !e->is_null()) {
    if (!e->is_object()) return InvalidArgument("event must be an object {event, data, metadata}.").WithField("event");
    const boost::json::object& given = e->as_object();
    const auto* type = given.if_contains("event");
    if (type != nullptr && !type->is_string()) return InvalidArgument("event.event must be a string.").WithField("event.event");
    payload = boost::json::object{
        {"event", type != nullptr ? *type : boost::json::value("order.created")},
        {"timestamp", given.contains("timestamp") ? given.at("timestamp") : boost::json::value(FormatRfc3339(ctx.clock.Now()))},
        {"organization_id", principal.organization_id},
        {"data", given.contains("data") ? given.at("data") : boost::json::value(boost::json::object())},
        {"metadata", given.contains("metadata") ? given.at("metadata") : boost::json::value(boost::json::object())}};
  }
  Result<shape::TemplateRequest> rendered = shape::RenderTemplate(config, url.value_or(BaseUrlFor(*spec)), payload);
  if (!rendered.ok()) return InvalidArgument(rendered.status().message()).WithField("event." + rendered.status().field());
  return JsonResponse(200, boost::json::object{{"request", RequestJson(*rendered)}, {"sent", false}});
}

}  // namespace

void AddTemplateRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  router.Add(Method::kGet, "/api/templates",
             WithAuth(ctx, [](const auto&, const auto&, const auto&) { return ListTemplates(); }));
  router.Add(Method::kPost, "/api/templates/{name}/preview",
             WithAuth(ctx, [&ctx](const auto& req, const auto& p, const auto& who) { return Preview(ctx, req, p, who); }));
}

}  // namespace ulak::api
