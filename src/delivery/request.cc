#include "delivery/request.h"

#include <strings.h>

#include "delivery/shaped_request.h"
#include "delivery/signer.h"

namespace ulak::delivery {
namespace {

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers, const char* name) {
  for (const auto& [n, v] : headers) {
    if (strcasecmp(n.c_str(), name) == 0) return true;
  }
  return false;
}

}  // namespace

SignedRequest BuildDeliveryRequest(const WebhookConfig& config, const std::string& delivery_id,
                                   const std::string& event_payload, TimePoint now) {
  const int64_t timestamp_s = ToUnixMillis(now) / 1000;
  SignedRequest out;
  OutgoingRequest& r = out.request;
  const std::vector<std::pair<std::string, std::string>>* headers = &config.custom_headers;
  ShapedDelivery shaped;
  if (ReshapesBody(config)) {
    Result<ShapedDelivery> result = ShapeDelivery(config, event_payload);
    if (!result.ok()) {
      out.shape_error = result.status().message();
      return out;
    }
    shaped = std::move(result).value();
    if (shaped.skip) {
      out.skipped = true;
      return out;
    }
    r.url = std::move(shaped.url);
    r.method = std::move(shaped.method);
    r.body = std::move(shaped.body);
    headers = &shaped.headers;
  } else {
    r.url = config.record.url;
    r.body = event_payload;
  }
  const std::string& payload = r.body;  // what is signed is what is sent
  out.signature = SignatureSeed001(config.record.secret_key, payload);
  r.timeout = std::chrono::seconds(config.record.timeout_seconds);
  r.headers.reserve(7 + headers->size());
  // A transform may set these two; the custom headers the API takes never do.
  const bool shaped_headers = headers != &config.custom_headers;
  if (!shaped_headers || !HasHeader(*headers, "Content-Type")) r.headers.emplace_back("Content-Type", "application/json");
  if (!shaped_headers || !HasHeader(*headers, "User-Agent")) r.headers.emplace_back("User-Agent", "ulak/" ULAK_VERSION);
  // Neither custom nor transformed headers collide with the ones below: both are refused.
  for (const auto& h : *headers) r.headers.push_back(h);
  r.headers.emplace_back("X-Webhook-Signature", out.signature);
  r.headers.emplace_back("webhook-id", delivery_id);
  r.headers.emplace_back("webhook-timestamp", std::to_string(timestamp_s));
  std::string standard = SignatureStandard(config.record.secret_key, delivery_id, timestamp_s, payload);
  const store::Webhook& w = config.record;
  if (!w.previous_secret_key.empty() && w.previous_secret_expires_at && now < *w.previous_secret_expires_at) {
    standard += ' ';
    standard += SignatureStandard(w.previous_secret_key, delivery_id, timestamp_s, payload);
  }
  r.headers.emplace_back("webhook-signature", std::move(standard));
  return out;
}

}  // namespace ulak::delivery
