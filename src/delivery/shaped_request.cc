#include "delivery/shaped_request.h"

#include "shape/json_number.h"

namespace ulak::delivery {

bool ReshapesBody(const WebhookConfig& config) { return config.fields != nullptr || config.transform != nullptr; }

namespace {

// Step 1: only the selected parts of `data`.
void SelectFields(const WebhookConfig& config, boost::json::value& payload) {
  if (config.fields == nullptr || !payload.is_object()) return;
  boost::json::object& o = payload.get_object();
  if (boost::json::value* data = o.if_contains("data")) *data = config.fields->Apply(*data);
}

// Step 3: the script's say on method, url, headers and payload; false when it returns nil.
Result<bool> Transform(const WebhookConfig& config, shape::NumberDigits& digits, ShapedDelivery& out,
                       boost::json::value& payload) {
  if (config.transform == nullptr) return true;
  shape::KeepLargeIntegers(payload, digits);  // Lua numbers are int64 or double
  shape::ShapedRequest in;
  in.method = out.method;
  in.url = out.url;
  in.headers = out.headers;
  in.payload = std::move(payload);
  ULAK_ASSIGN_OR_RETURN(std::optional<shape::ShapedRequest> result, shape::RunTransform(*config.transform, in));
  if (!result) return false;
  out.method = std::move(result->method);
  out.url = std::move(result->url);
  out.headers = std::move(result->headers);
  payload = std::move(result->payload);
  return true;
}

}  // namespace

Result<ShapedDelivery> ShapeDelivery(const WebhookConfig& config, const std::string& payload) {
  Result<shape::ParsedJson> parsed = shape::ParseJsonKeepingDigits(payload);
  if (!parsed.ok()) return Internal("the stored event body does not parse: " + parsed.status().message());
  ShapedDelivery out;
  out.url = config.record.url;
  out.headers = config.custom_headers;
  boost::json::value body = std::move(parsed->value);
  SelectFields(config, body);
  // (Issue 12's template renders here, between the fields and the transform.)
  ULAK_ASSIGN_OR_RETURN(bool send, Transform(config, parsed->digits, out, body));
  if (!send) {
    out.skip = true;
    return out;
  }
  out.body = shape::SerializeJson(body, &parsed->digits);
  return out;
}

}  // namespace ulak::delivery
