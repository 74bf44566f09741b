// GET /api/stats/deliveries: attempts per time bucket by outcome, with average and p95
// response times, for the web UI's charts (computed in the database).
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddStatsRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
