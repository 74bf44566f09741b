// How the API shows a webhook's custom headers (issue 15, defect 3): names in clear, values
// masked, since they carry credentials ("X-API-Key": "••••7890"). A PATCH that sends a
// masked value back unchanged keeps the stored value, so a client can GET, edit one header
// and PATCH the whole object without knowing the others' values.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "common/status.h"

namespace ulak::api {

inline constexpr std::string_view kMaskPrefix = "\u2022\u2022\u2022\u2022";  // "••••"

// "••••" plus the value's last 4 characters when it has at least 12 (enough left hidden),
// else "••••" alone.
std::string MaskHeaderValue(std::string_view value);

// The stored headers (a JSON object text) with every value masked.
boost::json::object MaskedHeaders(const std::string& headers_json);

// For a PATCH: `incoming_json` (validated custom headers) with each value that is exactly the
// mask of the stored value under the same name replaced by that stored value. A value that
// looks masked (starts with "••••") but matches no stored value is kInvalidArgument naming
// custom_headers: the real value must be sent.
Result<std::string> KeepMaskedHeaders(const std::string& incoming_json, const std::string& stored_json);

}  // namespace ulak::api
