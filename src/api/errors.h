// Turns a Status into the API's JSON error: {"error": {"code": "...", "message": "..."}}.
#pragma once

#include "common/status.h"
#include "http/message.h"

namespace ulak::api {

int HttpStatusFor(ErrorCode code);
// kInternal details are logged, not sent: the client gets a generic sentence.
http::Response ErrorFromStatus(const Status& status);

}  // namespace ulak::api
