// Shaped requests: a webhook whose deliveries are not ulak's payload as is (field selection,
// a CRM template, a Lua transform; src/shape/) renders its request per try, in the send-time
// order of SPEC §7:
//   payload → fields selection on `data` → template → Lua transform
//   → body serialized once (numbers as published) → signed over those exact bytes
//   → credential, custom and signature headers added.
// A webhook without shaping never comes here: it keeps BuildDeliveryRequest's shared body.
#pragma once

#include <memory>
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
  bool skip = false;  // the transform returned nil: nothing is sent
  std::string method = "POST";
  std::string url;
  // Without a transform: the template's own headers (the webhook's custom headers are added
  // when signing). With one: every header the script left, custom ones included.
  std::vector<std::pair<std::string, std::string>> headers;
  bool headers_final = false;  // a transform decided `headers`
  // Serialized once: the bytes signed and sent. Shared, not copied, by every send of the try
  // (SignShapedRequest; a resend after a token refresh) and read by its attempt log.
  std::shared_ptr<const std::string> body;
  // Where the webhook's credential goes (shape::TemplateRequest); empty header: nowhere.
  std::string credential_header;
  std::string credential_prefix;
};

// REQUIRES: NeedsShaping(config). `payload` is the event's stored body. Runs on the calling
// thread (a transform uses that thread's own Lua state). Fails (a sentence for the attempt's
// error_message) when the payload does not parse, the template cannot render it, or the
// transform errs or breaks a cap.
Result<ShapedRequest> ShapeRequest(const WebhookConfig& config, const std::string& payload);

// The request for one try: `shaped` with Content-Type, User-Agent, the credential
// (`credential` empty: none), the webhook's custom headers (they win over a template header of
// the same name) and both signatures over *shaped.body, which the request shares
// (OutgoingRequest::shared_body) instead of copying. REQUIRES: shaped.body not null.
SignedRequest SignShapedRequest(const WebhookConfig& config, const std::string& delivery_id,
                                const ShapedRequest& shaped, std::string_view credential, TimePoint now);

}  // namespace ulak::delivery
