#include "delivery/request.h"

#include "delivery/signer.h"

namespace ulak::delivery {

void AddSignatureHeaders(const WebhookConfig& config, const std::string& delivery_id, const std::string& body,
                         TimePoint now, SignedRequest& out) {
  const int64_t timestamp_s = ToUnixMillis(now) / 1000;
  out.signature = WebhookSignatureSeed001(config, body);
  OutgoingRequest& r = out.request;
  r.headers.emplace_back("X-Webhook-Signature", out.signature);
  r.headers.emplace_back("webhook-id", delivery_id);
  r.headers.emplace_back("webhook-timestamp", std::to_string(timestamp_s));
  r.headers.emplace_back("webhook-signature", WebhookSignatureHeader(config, delivery_id, timestamp_s, body, now));
}

SignedRequest BuildDeliveryRequest(const WebhookConfig& config, const std::string& delivery_id,
                                   std::shared_ptr<const std::string> payload, TimePoint now) {
  SignedRequest out;
  OutgoingRequest& r = out.request;
  r.url = config.record.url;
  r.shared_body = std::move(payload);
  r.timeout = std::chrono::seconds(config.record.timeout_seconds);
  r.headers.reserve(7 + config.custom_headers.size());
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("User-Agent", "ulak/" ULAK_VERSION);
  // Custom headers never collide with the ones below: the API refuses such names.
  for (const auto& h : config.custom_headers) r.headers.push_back(h);
  AddSignatureHeaders(config, delivery_id, *r.shared_body, now, out);
  return out;
}

}  // namespace ulak::delivery
