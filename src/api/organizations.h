// /api/organizations: tenants and their API keys.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddOrganizationRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
