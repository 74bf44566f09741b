// The send-time shaping of one delivery for a webhook with field selection or a transform
// (SPEC §7; src/shape/). Order: fields selection on `data`, [a template's rendering, issue
// 12], the Lua transform, then the body is serialized once; request.cc signs those bytes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "delivery/webhook_config.h"

namespace ulak::delivery {

struct ShapedDelivery {
  bool skip = false;  // the transform returned nil: nothing is sent
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // replace the webhook's custom headers
  std::string body;
};

// Whether the webhook changes its deliveries' bodies (otherwise they share the event's).
bool ReshapesBody(const WebhookConfig& config);

// REQUIRES: ReshapesBody(config); `payload` the event's rendered body. Runs on the calling
// thread (a transform uses that thread's own Lua state). An error is a failed attempt.
Result<ShapedDelivery> ShapeDelivery(const WebhookConfig& config, const std::string& payload);

}  // namespace ulak::delivery
