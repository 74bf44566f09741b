// Builds the HTTP request for one try of one delivery: the payload as is, signed both ways
// (signer.h) at send time, with the webhook's custom headers.
#pragma once

#include <cstdint>
#include <string>

#include "delivery/http_transport.h"
#include "delivery/webhook_config.h"
#include "store/types.h"

namespace ulak::delivery {

struct SignedRequest {
  OutgoingRequest request;
  std::string signature;  // X-Webhook-Signature, kept in the attempt log
};

SignedRequest BuildDeliveryRequest(const WebhookConfig& config, const store::PendingDelivery& work,
                                   int64_t timestamp_s);

}  // namespace ulak::delivery
