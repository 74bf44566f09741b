// Builds the HTTP request for one try of one delivery: the payload as is, signed both ways
// (signer.h) at send time, with the webhook's custom headers.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "delivery/http_transport.h"
#include "delivery/webhook_config.h"

namespace ulak::delivery {

struct SignedRequest {
  OutgoingRequest request;
  std::string signature;  // X-Webhook-Signature, kept in the attempt log
  // Shaping (shaped_request.h) may leave nothing to send: then `request` is empty.
  bool skipped = false;     // the webhook's transform returned nil
  std::string shape_error;  // shaping failed (a script error or cap): the attempt fails with it
};

// During a secret rotation's grace period (previous_secret_expires_at after `now`) the
// webhook-signature header carries both signatures, new first: "v1,<new> v1,<old>".
// `delivery_id` is the webhook-id header; `payload` the event's rendered body, sent as is
// unless the webhook selects fields or transforms (then shaped first, on this thread).
SignedRequest BuildDeliveryRequest(const WebhookConfig& config, const std::string& delivery_id,
                                   const std::string& payload, TimePoint now);

}  // namespace ulak::delivery
