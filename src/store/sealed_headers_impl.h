// Template body of MapHeaderValues (sealed_headers.h).
#pragma once

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ulak::store {

template <typename Fn>
Result<std::string> MapHeaderValues(const std::string& headers_json, Fn&& fn) {
  if (headers_json.empty()) return std::string();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(headers_json, ec);
  if (ec || !v.is_object()) return Internal("a webhook's custom headers are not a JSON object");
  for (auto& [name, value] : v.as_object()) {
    if (!value.is_string()) continue;
    ULAK_ASSIGN_OR_RETURN(std::string mapped, fn(std::string_view(value.as_string())));
    value = boost::json::string(mapped);
  }
  return boost::json::serialize(v);
}

}  // namespace ulak::store
