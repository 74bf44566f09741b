#include "crypto/secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace ulak::crypto {
namespace {

constexpr size_t kNonceBytes = 12;  // the GCM standard nonce size: no extra hashing of the IV
constexpr size_t kTagBytes = 16;
constexpr size_t kKeyIdChars = 8;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// Splits "enc:v1:<key id>:<payload>"; false when value does not have that shape.
bool SplitSealed(std::string_view value, std::string_view* key_id, std::string_view* payload) {
  if (!IsSealed(value)) return false;
  value.remove_prefix(kSealedPrefix.size());
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos) return false;
  *key_id = value.substr(0, colon);
  *payload = value.substr(colon + 1);
  return key_id->size() == kKeyIdChars && IsHex(*key_id);
}

}  // namespace

bool IsSealed(std::string_view value) { return value.substr(0, kSealedPrefix.size()) == kSealedPrefix; }

std::string MasterKeyId(std::string_view key) { return Sha256Hex(key).substr(0, kKeyIdChars); }

Result<std::string> ParseMasterKey(std::string_view text) {
  const std::string_view trimmed = Trim(text);
  constexpr std::string_view kHint =
      "a master key must be 32 bytes, written as 64 hex characters or as base64 (generate one with "
      "`openssl rand -hex 32`)";
  if (trimmed.empty()) return InvalidArgument(std::string(kHint) + "; got an empty value");
  if (trimmed.size() == 2 * kMasterKeyBytes && IsHex(trimmed)) {
    std::optional<std::string> key = HexDecode(trimmed);
    if (key && key->size() == kMasterKeyBytes) return std::move(*key);
  }
  std::optional<std::string> key = Base64Decode(trimmed);
  if (!key) {
    return InvalidArgument(std::string(kHint) + "; got " + std::to_string(trimmed.size()) +
                           " characters that are neither");
  }
  if (key->size() != kMasterKeyBytes) {
    const size_t got = key->size();
    OPENSSL_cleanse(key->data(), key->size());
    return InvalidArgument(std::string(kHint) + "; got base64 of " + std::to_string(got) + " bytes");
  }
  return std::move(*key);
}

Result<SecretBox> SecretBox::Create(std::string current_key, std::vector<std::string> previous_keys) {
  std::vector<Key> keys;
  auto add = [&keys](std::string bytes, bool current) -> Status {
    if (bytes.size() != kMasterKeyBytes) {
      return InvalidArgument(std::string(current ? "the current" : "a previous") + " master key is " +
                             std::to_string(bytes.size()) + " bytes, not " + std::to_string(kMasterKeyBytes));
    }
    Key key{MasterKeyId(bytes), std::move(bytes)};
    for (const Key& k : keys) {
      if (k.id != key.id) continue;
      if (CRYPTO_memcmp(k.bytes.data(), key.bytes.data(), kMasterKeyBytes) == 0) return Status::Ok();  // repeat
      // Two different keys with one id (a 1 in 2^32 chance): Open could not tell them apart.
      return InvalidArgument("two different master keys share the key id " + key.id + "; generate another key");
    }
    keys.push_back(std::move(key));
    return Status::Ok();
  };
  ULAK_RETURN_IF_ERROR(add(std::move(current_key), true));
  for (std::string& k : previous_keys) ULAK_RETURN_IF_ERROR(add(std::move(k), false));
  return SecretBox(std::move(keys));
}

SecretBox::~SecretBox() {
  for (Key& k : keys_) OPENSSL_cleanse(k.bytes.data(), k.bytes.size());
}

std::vector<std::string> SecretBox::key_ids() const {
  std::vector<std::string> ids;
  for (const Key& k : keys_) ids.push_back(k.id);
  return ids;
}

const SecretBox::Key* SecretBox::FindKey(std::string_view id) const {
  for (const Key& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

Result<std::string> SecretBox::Seal(std::string_view plaintext, Random& random) const {
  const Key& key = keys_.front();
  std::string out = random.Bytes(kNonceBytes);
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  unsigned char* nonce = Bytes(out);
  unsigned char* ciphertext = nonce + kNonceBytes;

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key.bytes), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(key.id), static_cast<int>(key.id.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ciphertext, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, ciphertext + plaintext.size()) != 1) {
    return Internal("AES-256-GCM encryption failed in OpenSSL");
  }
  return std::string(kSealedPrefix) + key.id + ":" + Base64Encode(out);
}

Result<std::string> SecretBox::Open(std::string_view value) const {
  if (!IsSealed(value)) return std::string(value);  // a plaintext row from before encryption
  std::string_view key_id, payload;
  if (!SplitSealed(value, &key_id, &payload)) return Internal("a sealed secret is malformed (no valid key id)");
  const Key* key = FindKey(key_id);
  if (key == nullptr) {
    std::string configured;
    for (const Key& k : keys_) configured += (configured.empty() ? "" : ", ") + k.id;
    return Internal("a secret is sealed with master key " + std::string(key_id) +
                    ", which is not configured (configured: " + configured +
                    "); add that key to ULAK_MASTER_KEY_PREVIOUS");
  }
  std::optional<std::string> raw = Base64Decode(payload);
  if (!raw || raw->size() < kNonceBytes + kTagBytes) return Internal("a sealed secret is malformed (bad payload)");
  const size_t text_size = raw->size() - kNonceBytes - kTagBytes;
  const unsigned char* nonce = Bytes(*raw);
  const unsigned char* ciphertext = nonce + kNonceBytes;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only reads the tag.
  unsigned char* tag = Bytes(*raw) + kNonceBytes + text_size;

  std::string plaintext(text_size, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key->bytes), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(key->id), static_cast<int>(key->id.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(plaintext), &len, ciphertext, static_cast<int>(text_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1) {
    return Internal("AES-256-GCM decryption failed in OpenSSL");
  }
  // The tag is checked here, after the plaintext was produced: discard it on failure.
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(plaintext) + len, &len) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return Internal("a sealed secret failed authentication under master key " + key->id +
                    ": it was altered, or sealed with a different key of the same id");
  }
  return plaintext;
}

bool SecretBox::IsSealedWithCurrentKey(std::string_view value) const {
  std::string_view key_id, payload;
  return SplitSealed(value, &key_id, &payload) && key_id == current_key_id();
}

bool SecretBox::HasKeyFor(std::string_view value) const {
  if (!IsSealed(value)) return true;
  std::string_view key_id, payload;
  return SplitSealed(value, &key_id, &payload) && FindKey(key_id) != nullptr;
}

}  // namespace ulak::crypto
