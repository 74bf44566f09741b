// Delivery operations and monitoring routes: replay (one delivery, a webhook's failures
// since a time as a job, an event to a webhook), jobs, and seed 001's monitoring queries.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddOperationRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
