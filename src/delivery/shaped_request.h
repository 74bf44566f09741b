// Shaped requests: a webhook whose deliveries are not ulak's payload as is (a CRM template,
// issue 12) renders its request per try, in the send-time order of the shaping contract:
//   payload → [fields selection (issue 13)] → template → [Lua transform (issue 13)]
//   → body serialized once → signed over those exact bytes → credential, custom and
//   signature headers added.
// A webhook without shaping never comes here: it keeps BuildDeliveryRequest's shared body.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "delivery/request.h"
#include "delivery/webhook_config.h"

namespace ulak::delivery {

// True when the webhook's tries go through ShapeRequest instead of BuildDeliveryRequest.
bool NeedsShaping(const WebhookConfig& config);

struct ShapedRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // the template's own
  std::string body;  // serialized once: the bytes signed and sent
  // Where the webhook's credential goes (shape::TemplateRequest); empty header: nowhere.
  std::string credential_header;
  std::string credential_prefix;
};

// REQUIRES: NeedsShaping(config). `payload` is the event's stored body. Fails
// (kInvalidArgument, a sentence for the attempt's error_message) when the payload is not a
// JSON object or the template cannot render it.
Result<ShapedRequest> ShapeRequest(const WebhookConfig& config, const std::string& payload);

// The request for one try: `shaped` with Content-Type, User-Agent, the credential
// (`credential` empty: none), the webhook's custom headers (they win over a template header of
// the same name) and both signatures over shaped.body.
SignedRequest SignShapedRequest(const WebhookConfig& config, const std::string& delivery_id,
                                const ShapedRequest& shaped, std::string_view credential, TimePoint now);

}  // namespace ulak::delivery
