// /api/templates: the CRM template library (issue 12) and previews that render a template's
// request for an event without sending anything.
#pragma once

#include "api/api.h"

namespace ulak::api {

void AddTemplateRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
