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
// For handlers that answer later (a durable publish, a test send): they call `reply` when
// done, or return a non-OK Status to answer with an error at once.
using AsyncAuthedHandler = std::function<Status(http::Request&& request, const http::PathParams& params,
                                                const Principal& principal, http::Reply reply)>;
using PublicHandler = std::function<Result<http::Response>(const http::Request& request)>;

http::RouteHandler WithAuth(ApiContext& ctx, AuthedHandler handler);
http::RouteHandler WithAuthAsync(ApiContext& ctx, AsyncAuthedHandler handler);
http::RouteHandler WithoutAuth(PublicHandler handler);

}  // namespace ulak::api
