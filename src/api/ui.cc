#include "api/ui.h"

#include "api/ui_assets.h"

namespace ulak::api {
namespace {

http::Response AssetResponse(const UiAsset& asset, const std::string& csp) {
  http::Response r;
  r.status = 200;
  r.content_type = std::string(asset.content_type);
  r.body = std::string(asset.bytes);
  r.SetHeader("Content-Security-Policy", csp);
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("Referrer-Policy", "no-referrer");
  r.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  // The bundle's names are fixed, so a new binary must not be hidden by a cached old file.
  r.SetHeader("Cache-Control", "no-cache");
  return r;
}

const UiAsset* FindAsset(std::string_view name) {
  for (const UiAsset& a : UiAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace

std::string UiContentSecurityPolicy(std::string_view frame_ancestors) {
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
         "frame-ancestors " + std::string(frame_ancestors.empty() ? "'none'" : frame_ancestors);
}

void AddUiRoutes(ApiContext& ctx, http::Router& router) {
  const std::string csp = UiContentSecurityPolicy(ctx.ui_frame_ancestors);
  router.Add(http::Method::kGet, "/", [](http::Request&&, const http::PathParams&, http::Reply reply) {
    http::Response r;
    r.status = 302;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "See /ui/\n";
    r.SetHeader("Location", "/ui/");
    reply(std::move(r));
  });
  const UiAsset* index = FindAsset("index.html");
  if (index != nullptr) {
    router.Add(http::Method::kGet, "/ui", [index, csp](http::Request&&, const http::PathParams&, http::Reply reply) {
      reply(AssetResponse(*index, csp));
    });
  }
  for (const UiAsset& asset : UiAssets()) {
    router.Add(http::Method::kGet, "/ui/" + std::string(asset.name),
               [&asset, csp](http::Request&&, const http::PathParams&, http::Reply reply) {
                 reply(AssetResponse(asset, csp));
               });
  }
}

}  // namespace ulak::api
