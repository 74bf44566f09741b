// Ed25519 signing keys over OpenSSL 3 EVP, for asymmetric webhook signatures (Standard
// Webhooks "v1a"). A key is parsed once into an Ed25519PrivateKey (an EVP_PKEY, shared and
// immutable), then signs any number of messages from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace ulak::crypto {

inline constexpr size_t kEd25519SeedBytes = 32;
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

class Ed25519PrivateKey {
 public:
  // REQUIRES: seed holds 32 bytes (RFC 8032's private key). Fails only if OpenSSL does.
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);

  // The 32-byte public key (RFC 8032 encoding).
  const std::string& public_key() const { return public_key_; }
  // The 64-byte signature of `message` (pure Ed25519, no pre-hash). Thread-safe.
  std::string Sign(std::string_view message) const;

 private:
  explicit Ed25519PrivateKey(std::shared_ptr<EVP_PKEY> key, std::string public_key)
      : key_(std::move(key)), public_key_(std::move(public_key)) {}
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_;
};

// Verifies a 64-byte signature with a 32-byte public key. For tests and tools; the server
// only signs.
bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature);

}  // namespace ulak::crypto
