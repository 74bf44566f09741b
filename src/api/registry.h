// The registry export (SPEC §6): every incoming source and outgoing webhook as seed 000's
// `webhook_config:` YAML documents, numbered WH-001, WH-002, ... in creation order.
#pragma once

#include <string>
#include <string_view>

#include "api/api.h"
#include "common/status.h"
#include "store/store.h"

namespace ulak::api {

// organization_id empty: every organization. public_base_url prefixes incoming endpoints
// ("" leaves them as paths).
Result<std::string> RenderRegistryYaml(store::Store& store, std::string_view organization_id,
                                       std::string_view public_base_url = "");

void AddRegistryRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
