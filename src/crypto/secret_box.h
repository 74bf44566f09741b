// SecretBox: authenticated encryption of secrets at rest (webhook and source secrets) under
// the master key, AES-256-GCM over OpenSSL 3.
//
// A sealed value is text, so it fits every column that held the plaintext:
//
//   enc:v1:<key id>:<base64(12-byte nonce || ciphertext || 16-byte tag)>
//
// The key id is the first 8 hex characters of SHA-256(key): it names the key without
// revealing it, so a keyring (the current key plus older ones) can open values sealed before
// a rotation. The key id is the additional authenticated data, so a value cannot be relabelled
// to another key. A value without the "enc:v1:" prefix is a plaintext row from before
// encryption: Open returns it unchanged so an old database keeps working until
// `ulak rotate-master-key` seals it.
//
// Thread-safe: immutable after Create (share it as std::shared_ptr<const SecretBox>).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "common/status.h"

namespace ulak::crypto {

inline constexpr size_t kMasterKeyBytes = 32;
inline constexpr std::string_view kSealedPrefix = "enc:v1:";

class SecretBox {
 public:
  // current_key: the key every Seal uses. previous_keys: older keys Open still accepts.
  // Every key must be kMasterKeyBytes raw bytes (see ParseMasterKey). A previous key equal to
  // the current one, or given twice, is ignored.
  static Result<SecretBox> Create(std::string current_key, std::vector<std::string> previous_keys = {});

  SecretBox(SecretBox&&) = default;
  SecretBox& operator=(SecretBox&&) = default;
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;
  ~SecretBox();

  // A fresh random nonce per call (never reuse a nonce under one key: GCM breaks then).
  Result<std::string> Seal(std::string_view plaintext, Random& random) const;
  // Opens a sealed value with the key its id names; a value that is not sealed is returned
  // as it is. kInternal when the key id is not in the keyring or the value was altered.
  Result<std::string> Open(std::string_view value) const;
  // True when value is sealed under the current key (nothing for rotation to do).
  bool IsSealedWithCurrentKey(std::string_view value) const;

  // True when value is plaintext or names a key of the keyring (the tag is not checked: this
  // tells a missing key apart, cheaply, before anything tries to open the value).
  bool HasKeyFor(std::string_view value) const;

  const std::string& current_key_id() const { return keys_.front().id; }
  // The current key's id first, then the previous keys' ids.
  std::vector<std::string> key_ids() const;

 private:
  struct Key {
    std::string id;     // 8 hex characters, not secret
    std::string bytes;  // kMasterKeyBytes, wiped when the box dies
  };
  explicit SecretBox(std::vector<Key> keys) : keys_(std::move(keys)) {}
  const Key* FindKey(std::string_view id) const;

  std::vector<Key> keys_;  // never empty; keys_[0] is the current key
};

// True when value carries the sealed prefix (whatever its key).
bool IsSealed(std::string_view value);

// The key id of a raw key: the first 8 hex characters of its SHA-256.
std::string MasterKeyId(std::string_view key);

// Parses a master key given as 64 hex characters or as base64 of 32 bytes (surrounding
// whitespace ignored, so a key file may end with a newline). The error never repeats the key.
Result<std::string> ParseMasterKey(std::string_view text);

}  // namespace ulak::crypto
