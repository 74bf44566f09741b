// Trying shaping before configuring it (SPEC §7):
//   POST /api/filters/test          {"filter", "payload"}  -> {"match": true|false} or 422
//   POST /api/transformations/test  {"lua", "payload", ["url", "method", "headers"]}
//       -> {"result": {method, url, headers, payload}} | {"skipped": true} or 422 with the
//          script's error and line, under the same caps as deliveries.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddShapingRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
