// Request inboxes: POST /api/inboxes makes a URL of ulak itself (/in/<random id>) that records
// any request sent to it and answers {"ok": true} with a settable status, so a webhook can be
// pointed at it during development and its deliveries (and their signatures) inspected.
#pragma once

#include "api/api.h"

namespace ulak::api {

inline constexpr size_t kInboxMaxBodyBytes = 64 * 1024;  // longer bodies are cut here
inline constexpr int kInboxKeepRequests = 100;           // per inbox, newest kept
inline constexpr std::chrono::hours kInboxKeepFor{24};
inline constexpr size_t kMaxInboxesPerOrganization = 50;

void AddInboxRoutes(ApiContext& ctx, http::Router& router);

}  // namespace ulak::api
