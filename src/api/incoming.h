// Receiving webhooks: POST /api/incoming/{source_id} and seed 000's provider paths
// (/api/webhooks/stripe, /api/webhooks/apple), plus the incoming request log.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddIncomingRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
