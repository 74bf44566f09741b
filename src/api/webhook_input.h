// Validation of webhook bodies (POST and PATCH /api/webhooks): every rule of SPEC §2 with a
// 422 that names the field. Nothing is stored unless all of it holds.
#pragma once

#include <boost/json/object.hpp>

#include "common/config.h"
#include "common/status.h"
#include "store/types.h"

namespace ulak::api {

// Applies the fields present in `body` to `webhook` (defaults already set for a create).
// `creating` requires name, url and events. signature_scheme is validated and set here; the
// caller makes the keys it needs (it has the Random).
Status ApplyWebhookFields(const boost::json::object& body, Mode mode, bool creating, store::Webhook& webhook);

// An event type: dot-separated segments of [A-Za-z0-9_:/-], at most 200 characters. With
// allow_wildcard (subscriptions), "prefix.*" and "*" too.
bool ValidEventType(std::string_view type, bool allow_wildcard);

// Shaping fields (SPEC §7), checked as the webhook API does: the text to store, or a 422
// naming the place ("filter.$and[1].data.total_amount.$gte", "fields[2]", "transform.lua").
Result<std::string> ParseFilter(const boost::json::value& v);
Result<std::string> ParseFields(const boost::json::value& v);
Result<std::string> ParseTransform(const boost::json::value& v);  // {"lua": source} -> source

// The default retry policy (seed 001: 60, 300, 1800 s) as stored JSON.
std::string DefaultRetryPolicyJson();

}  // namespace ulak::api
