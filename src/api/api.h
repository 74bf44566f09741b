// The REST API: every route, wired to the store and the delivery engine.
#pragma once

#include "api/auth.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/random.h"
#include "http/router.h"
#include "store/store.h"
#include "store/writer.h"

namespace ulak {
namespace delivery {
class DeliveryEngine;
class DeliveryOperations;
class Publisher;
}  // namespace delivery

namespace api {

class SourceCache;

// What handlers need; outlives the router. Shared by the I/O threads: every member is
// thread-safe.
struct ApiContext {
  store::Store& store;
  const Clock& clock;
  Random& random;
  const Authenticator& auth;
  delivery::Publisher* publisher = nullptr;  // null in tests of the foundation routes only
  delivery::DeliveryEngine* engine = nullptr;
  Mode mode = Mode::kDevelopment;
  std::string cron_secret;  // CRON_SECRET: authorizes POST /api/webhooks/retry; empty: admin key only
  delivery::DeliveryOperations* operations = nullptr;
  SourceCache* sources = nullptr;  // incoming sources parsed once; required by the receive routes
  // The web UI's CSP frame-ancestors (ULAK_UI_FRAME_ANCESTORS), for embedding the portal.
  std::string ui_frame_ancestors = "'none'";
  // The group-commit writer: /readyz reports not ready while its last commit failed.
  const store::StoreWriter* writer = nullptr;
};

http::Router BuildRouter(ApiContext& ctx);

}  // namespace api
}  // namespace ulak
