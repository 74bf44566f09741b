// The REST API: every route, wired to the store and the delivery engine.
#pragma once

#include "api/auth.h"
#include "common/clock.h"
#include "common/random.h"
#include "http/router.h"
#include "store/store.h"

namespace ulak::api {

// What handlers need; outlives the router. Shared by the I/O threads: every member is
// thread-safe.
struct ApiContext {
  store::Store& store;
  const Clock& clock;
  Random& random;
  const Authenticator& auth;
};

http::Router BuildRouter(ApiContext& ctx);

}  // namespace ulak::api
