#include "api/shaping.h"

#include <boost/json/object.hpp>

#include "api/handler.h"
#include "api/json_io.h"
#include "shape/filter.h"
#include "shape/json_number.h"
#include "shape/lua_transform.h"

namespace ulak::api {
namespace {

// The body again with the publisher's digits, so that numbers come back as they were sent.
Result<shape::ParsedJson> ParseBody(const http::Request& request) {
  ULAK_RETURN_IF_ERROR(ParseJsonObject(request.body).status());  // precise errors for bad JSON
  return shape::ParseJsonKeepingDigits(request.body);
}

Result<http::Response> TestFilter(const http::Request& request) {
  ULAK_ASSIGN_OR_RETURN(shape::ParsedJson parsed, ParseBody(request));
  const boost::json::object& body = parsed.value.get_object();
  const boost::json::value* filter = body.if_contains("filter");
  if (filter == nullptr) return InvalidArgument("filter is required.").WithField("filter");
  const boost::json::value* payload = body.if_contains("payload");
  if (payload == nullptr) return InvalidArgument("payload is required.").WithField("payload");
  ULAK_ASSIGN_OR_RETURN(std::shared_ptr<const shape::Filter> compiled, shape::Filter::Compile(*filter, "filter"));
  return JsonResponse(200, boost::json::object{{"match", compiled->Matches(*payload)}});
}

Result<http::Response> TestTransformation(const http::Request& request) {
  ULAK_ASSIGN_OR_RETURN(shape::ParsedJson parsed, ParseBody(request));
  const boost::json::object& body = parsed.value.get_object();
  ULAK_ASSIGN_OR_RETURN(std::string lua, RequireString(body, "lua", 64 * 1024));
  const boost::json::value* payload = body.if_contains("payload");
  if (payload == nullptr) return InvalidArgument("payload is required.").WithField("payload");
  shape::ShapedRequest in;
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> url, OptionalString(body, "url", 2048));
  in.url = url.value_or("https://receiver.example/webhook");
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> method, OptionalString(body, "method", 16));
  in.method = method.value_or("POST");
  if (const boost::json::value* headers = body.if_contains("headers"); headers != nullptr && !headers->is_null()) {
    if (!headers->is_object()) return InvalidArgument("headers must be an object of names to values.").WithField("headers");
    for (const auto& [name, value] : headers->get_object()) {
      if (!value.is_string()) return InvalidArgument("headers must hold strings.").WithField("headers");
      in.headers.emplace_back(std::string(name), std::string(value.get_string()));
    }
  }
  in.payload = *payload;
  ULAK_ASSIGN_OR_RETURN(std::shared_ptr<const shape::LuaProgram> program, shape::LuaProgram::Compile(lua, {}, "lua"));
  shape::KeepLargeIntegers(in.payload, parsed.digits);
  Result<std::optional<shape::ShapedRequest>> out = shape::RunTransform(*program, in);
  if (!out.ok()) return InvalidArgument(out.status().message()).WithField("lua");
  if (!*out) return JsonResponse(200, boost::json::object{{"skipped", true}});
  boost::json::object headers;
  for (const auto& [name, value] : (*out)->headers) headers[name] = value;
  boost::json::object result{{"method", (*out)->method},
                             {"url", (*out)->url},
                             {"headers", std::move(headers)},
                             {"payload", std::move((*out)->payload)}};
  return JsonResponse(200, boost::json::object{{"result", std::move(result)}}, &parsed.digits);
}

}  // namespace

void AddShapingRoutes(ApiContext& ctx, http::Router& router) {
  router.Add(http::Method::kPost, "/api/filters/test",
             WithAuth(ctx, [](const http::Request& req, const auto&, const auto&) { return TestFilter(req); }));
  router.Add(http::Method::kPost, "/api/transformations/test",
             WithAuth(ctx, [](const http::Request& req, const auto&, const auto&) { return TestTransformation(req); }));
}

}  // namespace ulak::api
