#include "api/api.h"

#include "api/handler.h"
#include "api/json_io.h"
#include "api/events.h"
#include "api/inboxes.h"
#include "api/incoming.h"
#include "api/openapi.h"
#include "api/operations.h"
#include "api/portal.h"
#include "api/registry.h"
#include "api/shaping.h"
#include "api/sources.h"
#include "api/templates.h"
#include "api/stats.h"
#include "api/ui.h"
#include "api/organizations.h"
#include "api/webhooks.h"
#include "common/metrics.h"
#include "delivery/engine.h"
#include "store/writer.h"

namespace ulak::api {
namespace {

void AddHealthRoutes(ApiContext& ctx, http::Router& router) {
  // Liveness: the process answers. Never touches the store, so a slow database cannot get
  // a healthy process restarted.
  router.Add(http::Method::kGet, "/healthz", WithoutAuth([](const http::Request&) -> Result<http::Response> {
               return JsonResponse(200, boost::json::object{{"status", "ok"}});
             }));
  // Prometheus metrics: process-wide aggregates only (no tenant data), so no key is needed.
  router.Add(http::Method::kGet, "/metrics", WithoutAuth([&ctx](const http::Request&) -> Result<http::Response> {
               http::Response r;
               r.content_type = "text/plain; version=0.0.4";
               r.body = Metrics::Instance().Render(ctx.engine != nullptr ? ctx.engine->HeldCount() : 0);
               return r;
             }));
  // Readiness: the store answers a query (for SQLite: from the file still at its path) and
  // its last write succeeded. While not, publishes answer 503 too: never 202 for what the
  // store could not keep. It clears at the next write that succeeds.
  router.Add(http::Method::kGet, "/readyz", WithoutAuth([&ctx](const http::Request&) -> Result<http::Response> {
               ULAK_RETURN_IF_ERROR(ctx.store.Ping());
               if (ctx.writer != nullptr) {
                 if (Status last = ctx.writer->LastWrite(); !last.ok()) {
                   return Unavailable("The store's last write failed: " + last.message());
                 }
               }
               return JsonResponse(200, boost::json::object{{"status", "ready"}});
             }));
}

}  // namespace

http::Router BuildRouter(ApiContext& ctx) {
  http::Router router;
  AddHealthRoutes(ctx, router);
  AddDocumentationRoutes(ctx, router);
  AddOrganizationRoutes(ctx, router);
  AddIncomingRoutes(ctx, router);  // before /api/webhooks/{id}: the seed's provider paths
  AddWebhookRoutes(ctx, router);
  AddTemplateRoutes(ctx, router);
  AddSourceRoutes(ctx, router);
  AddRegistryRoutes(ctx, router);
  AddOperationRoutes(ctx, router);
  AddEventRoutes(ctx, router);
  AddPortalRoutes(ctx, router);
  AddStatsRoutes(ctx, router);
  AddInboxRoutes(ctx, router);
  AddUiRoutes(ctx, router);
  AddShapingRoutes(ctx, router);
  return router;
}

}  // namespace ulak::api
