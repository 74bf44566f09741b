#include "crypto/ed25519.h"

#include <openssl/evp.h>

namespace ulak::crypto {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(std::string_view seed) {
  if (seed.size() != kEd25519SeedBytes) return InvalidArgument("an Ed25519 private key is 32 bytes");
  std::shared_ptr<EVP_PKEY> key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed), seed.size()),
                                EVP_PKEY_free);
  if (!key) return Internal("OpenSSL could not load an Ed25519 key");
  std::string public_key(kEd25519PublicKeyBytes, '\0');
  size_t length = public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(public_key.data()), &length) != 1 ||
      length != kEd25519PublicKeyBytes) {
    return Internal("OpenSSL could not derive an Ed25519 public key");
  }
  return Ed25519PrivateKey(std::move(key), std::move(public_key));
}

std::string Ed25519PrivateKey::Sign(std::string_view message) const {
  // EVP_PKEY is safe to share between threads for signing; each call has its own context.
  MdCtx ctx(EVP_MD_CTX_new());
  std::string signature(kEd25519SignatureBytes, '\0');
  size_t length = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, Bytes(message),
                     message.size()) != 1 ||
      length != kEd25519SignatureBytes) {
    return {};  // only on allocation failure; an empty signature never verifies
  }
  return signature;
}

bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != kEd25519PublicKeyBytes || signature.size() != kEd25519SignatureBytes) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(public_key), public_key.size()), EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new());
  return key && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message), message.size()) == 1;
}

}  // namespace ulak::crypto
