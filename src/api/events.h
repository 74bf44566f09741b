// POST /api/events: publish. Answers 202 only once the event and its deliveries are durable.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddEventRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
