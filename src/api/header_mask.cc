#include "api/header_mask.h"

#include <boost/json/parse.hpp>
#include "shape/json_number.h"

namespace ulak::api {
namespace {

boost::json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

// The last n UTF-8 characters of s (never splits a multi-byte character).
std::string_view LastChars(std::string_view s, size_t n) {
  size_t i = s.size();
  while (i > 0 && n > 0) {
    --i;
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) --n;
  }
  return s.substr(i);
}

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

std::string MaskHeaderValue(std::string_view value) {
  std::string out(kMaskPrefix);
  if (CharCount(value) >= 12) out += LastChars(value, 4);
  return out;
}

boost::json::object MaskedHeaders(const std::string& headers_json) {
  boost::json::object headers = ParseObject(headers_json);
  for (auto& [name, value] : headers) {
    if (value.is_string()) value = boost::json::string(MaskHeaderValue(std::string_view(value.as_string())));
  }
  return headers;
}

Result<std::string> KeepMaskedHeaders(const std::string& incoming_json, const std::string& stored_json) {
  boost::json::object incoming = ParseObject(incoming_json);
  const boost::json::object stored = ParseObject(stored_json);
  for (auto& [name, value] : incoming) {
    if (!value.is_string()) continue;
    const std::string_view sent(value.as_string());
    if (sent.substr(0, kMaskPrefix.size()) != kMaskPrefix) continue;
    const boost::json::value* old = stored.if_contains(name);
    if (old != nullptr && old->is_string() && MaskHeaderValue(std::string_view(old->as_string())) == sent) {
      value = *old;
      continue;
    }
    return Status(InvalidArgument("custom_headers: the value of " + std::string(name) +
                                  " is masked but matches no stored value; send the real value."))
        .WithField("custom_headers");
  }
  return shape::SerializeJson(incoming);
}

}  // namespace ulak::api
