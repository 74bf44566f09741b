// A webhook's custom headers at rest (issue 15, defect 3): their values carry credentials
// (X-API-Key, n8n's X-Webhook-Secret), so EncryptingStore seals each value and keeps the
// names in clear: {"X-API-Key": "enc:v1:<key>:<…>"}.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ulak::store {

// Applies fn (std::string_view value -> Result<std::string>) to every string value of a JSON
// object and returns it re-serialized; "" stays "". kInternal when the text is not an object.
template <typename Fn>
Result<std::string> MapHeaderValues(const std::string& headers_json, Fn&& fn);

}  // namespace ulak::store

#include "store/sealed_headers_impl.h"
