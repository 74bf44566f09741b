// Adapters from the API's handler shapes to the router's: authentication first, then the
// handler's Result turned into a response or a JSON error.
#pragma once

#include <functional>

#include "api/api.h"
#include "api/auth.h"
#include "http/router.h"

namespace ulak::api {

using AuthedHandler = std::function<Result<http::Response>(
    const http::Request& request, const http::PathParams& params, const Principal& principal)>;
using PublicHandler = std::function<Result<http::Response>(const http::Request& request)>;

http::RouteHandler WithAuth(ApiContext& ctx, AuthedHandler handler);
http::RouteHandler WithoutAuth(PublicHandler handler);

}  // namespace ulak::api
