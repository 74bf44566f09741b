// GET /api/openapi.json: the OpenAPI 3.1 document of this API. The document is the file
// docs/openapi.json, compiled into the binary (cmake/EmbedText.cmake), so what is served is
// what the repository holds. openapi_test.cc checks it against the router: every route is
// documented and every documented operation is routed. To document a new route, add its
// path (or its method under an existing path) to docs/openapi.json's "paths".
#pragma once

#include <string_view>

#include "api/api.h"

namespace ulak {
// Defined in the generated build/.../generated/openapi_document.cc.
std::string_view OpenApiDocument();
}  // namespace ulak

namespace ulak::api {

void AddDocumentationRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
