// Hex and base64 (standard and URL-safe) encodings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ulak::crypto {

std::string HexEncode(std::string_view bytes);  // lowercase
std::optional<std::string> HexDecode(std::string_view hex);  // either case
std::string Base64Encode(std::string_view bytes);  // standard alphabet, padded
std::string Base64UrlEncode(std::string_view bytes);  // URL-safe, unpadded
// Accepts the standard and URL-safe alphabets, with or without padding.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ulak::crypto
