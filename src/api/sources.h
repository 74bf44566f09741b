// /api/sources: incoming endpoints (CRUD). Secrets are accepted, never shown again.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddSourceRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
