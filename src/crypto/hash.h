// Digests, HMAC and constant-time comparison over OpenSSL 3.
#pragma once

#include <string>
#include <string_view>

namespace ulak::crypto {

enum class HashAlgorithm { kSha1, kSha256, kSha512 };

std::string Sha256(std::string_view data);  // raw 32 bytes
std::string Sha256Hex(std::string_view data);
// Raw MAC bytes.
std::string Hmac(HashAlgorithm algorithm, std::string_view key, std::string_view message);
inline std::string HmacSha256(std::string_view key, std::string_view message) {
  return Hmac(HashAlgorithm::kSha256, key, message);
}
// Compares without an early exit, so timing does not reveal how much of a secret matched.
// Unequal lengths return false at once (lengths are not secret here).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ulak::crypto
