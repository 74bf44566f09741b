// /api/webhooks: endpoints (CRUD), test sends, attempt logs with stats, and the seed's
// retry trigger.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddWebhookRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
