#include "incoming/signature_headers.h"

#include <charconv>

#include "crypto/encoding.h"

namespace ulak::incoming {

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<int64_t> ParseUnixSeconds(std::string_view text) {
  // 18 digits cannot overflow int64_t, and no real timestamp needs more.
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<StripeSignature> ParseStripeSignature(std::string_view header) {
  StripeSignature out;
  bool have_timestamp = false;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    const std::string_view item = TrimOws(header.substr(pos, comma - pos));
    pos = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      if (have_timestamp) return std::nullopt;  // two clocks in one header: refuse to pick
      const auto t = ParseUnixSeconds(value);
      if (!t) return std::nullopt;
      out.timestamp = *t;
      have_timestamp = true;
    } else if (key == "v1") {
      if (auto mac = crypto::HexDecode(value); mac && !mac->empty()) out.v1.push_back(*mac);
    }
  }
  if (!have_timestamp) return std::nullopt;
  return out;
}

std::vector<std::string> ParseStandardSignatures(std::string_view header) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t space = header.find(' ', pos);
    if (space == std::string_view::npos) space = header.size();
    const std::string_view entry = header.substr(pos, space - pos);
    pos = space + 1;
    const size_t comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != "v1") continue;
    if (auto mac = crypto::Base64Decode(entry.substr(comma + 1)); mac && !mac->empty()) {
      out.push_back(std::move(*mac));
    }
  }
  return out;
}

std::optional<std::string> ParseHmacSignature(std::string_view header, std::string_view prefix,
                                              SourceOptions::Encoding encoding) {
  std::string_view value = TrimOws(header);
  if (!prefix.empty()) {
    if (value.substr(0, prefix.size()) != prefix) return std::nullopt;
    value.remove_prefix(prefix.size());
  }
  std::optional<std::string> mac = encoding == SourceOptions::Encoding::kHex
                                       ? crypto::HexDecode(value)
                                       : crypto::Base64Decode(value);
  if (!mac || mac->empty()) return std::nullopt;
  return mac;
}

}  // namespace ulak::incoming
