#include "api/openapi.h"

#include "api/handler.h"

namespace ulak::api {

void AddDocumentationRoutes(ApiContext&, http::Router& router) {
  // Public like /healthz: it describes the API, it holds no data.
  router.Add(http::Method::kGet, "/api/openapi.json", WithoutAuth([](const http::Request&) -> Result<http::Response> {
               http::Response r;
               r.content_type = "application/json";
               r.body = std::string(OpenApiDocument());
               return r;
             }));
}

}  // namespace ulak::api
