#include "api/handler.h"

#include "api/errors.h"

namespace ulak::api {
namespace {

void Finish(Result<http::Response>&& result, const http::Reply& reply) {
  if (result.ok()) {
    reply(std::move(result).value());
  } else {
    reply(ErrorFromStatus(result.status()));
  }
}

}  // namespace

http::RouteHandler WithAuth(ApiContext& ctx, AuthedHandler handler) {
  return [&ctx, handler = std::move(handler)](http::Request&& request, const http::PathParams& params,
                                              http::Reply reply) {
    Result<Principal> principal = ctx.auth.Authenticate(request);
    if (!principal.ok()) {
      reply(ErrorFromStatus(principal.status()));
      return;
    }
    Finish(handler(request, params, *principal), reply);
  };
}

http::RouteHandler WithAuthAsync(ApiContext& ctx, AsyncAuthedHandler handler) {
  return [&ctx, handler = std::move(handler)](http::Request&& request, const http::PathParams& params,
                                              http::Reply reply) {
    Result<Principal> principal = ctx.auth.Authenticate(request);
    if (!principal.ok()) {
      reply(ErrorFromStatus(principal.status()));
      return;
    }
    Status s = handler(std::move(request), params, *principal, reply);
    if (!s.ok()) reply(ErrorFromStatus(s));
  };
}

http::RouteHandler WithoutAuth(PublicHandler handler) {
  return [handler = std::move(handler)](http::Request&& request, const http::PathParams&,
                                        http::Reply reply) { Finish(handler(request), reply); };
}

}  // namespace ulak::api
