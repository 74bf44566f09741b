#include "delivery/request.h"

#include "delivery/signer.h"

namespace ulak::delivery {

SignedRequest BuildDeliveryRequest(const WebhookConfig& config, const store::PendingDelivery& work,
                                   int64_t timestamp_s) {
  SignedRequest out;
  out.signature = SignatureSeed001(config.record.secret_key, work.payload);
  OutgoingRequest& r = out.request;
  r.url = config.record.url;
  r.body = work.payload;
  r.timeout = std::chrono::seconds(config.record.timeout_seconds);
  r.headers.reserve(7 + config.custom_headers.size());
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("User-Agent", "ulak/" ULAK_VERSION);
  // Custom headers never collide with the ones below: the API refuses such names.
  for (const auto& h : config.custom_headers) r.headers.push_back(h);
  r.headers.emplace_back("X-Webhook-Signature", out.signature);
  r.headers.emplace_back("webhook-id", work.delivery.id);
  r.headers.emplace_back("webhook-timestamp", std::to_string(timestamp_s));
  r.headers.emplace_back("webhook-signature",
                         SignatureStandard(config.record.secret_key, work.delivery.id, timestamp_s, work.payload));
  return out;
}

}  // namespace ulak::delivery
