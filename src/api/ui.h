// Serves the web UI at /ui/ (and redirects / there) from the assets compiled into the
// binary, with strict security headers: no inline script, everything from 'self'.
#pragma once

#include <string>

#include "api/api.h"

namespace ulak::api {

// The Content-Security-Policy of UI responses. frame_ancestors: who may embed the UI (the
// portal) in a frame, e.g. "'none'" (default) or "https://app.example.com".
std::string UiContentSecurityPolicy(std::string_view frame_ancestors);

void AddUiRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
