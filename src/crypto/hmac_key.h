// HmacSha256Key: an HMAC-SHA256 key prepared once (OpenSSL's keyed MAC context, with the
// key's inner and outer pads already hashed) and used for many messages, each given in parts
// so a signed "{id}.{timestamp}.{body}" is never assembled into one copy of the body.
//
// Immutable after construction; Sign is const and may run on several threads at once (each
// call works on its own copy of the prepared context).
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace ulak::crypto {

class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  // Raw 32 bytes of HMAC-SHA256(key, concatenation of `parts`); equals
  // HmacSha256(key, a + b + ...).
  std::string Sign(std::initializer_list<std::string_view> parts) const;

 private:
  EVP_MAC_CTX* ctx_;
};

}  // namespace ulak::crypto
