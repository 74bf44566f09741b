#include "crypto/hmac_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdlib>

namespace ulak::crypto {
namespace {

// Fetched once: a fetch per key would look the algorithm up in OpenSSL's provider tables.
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m == nullptr) std::abort();  // OpenSSL 3's default provider always has HMAC
    return m;
  }();
  return mac;
}

}  // namespace

HmacSha256Key::HmacSha256Key(std::string_view key) : ctx_(EVP_MAC_CTX_new(HmacAlgorithm())) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  // An empty key is valid HMAC (zero-padded); OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const unsigned char* k = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (ctx_ == nullptr || EVP_MAC_init(ctx_, k, key.size(), params) != 1) std::abort();
}

HmacSha256Key::~HmacSha256Key() { EVP_MAC_CTX_free(ctx_); }

std::string HmacSha256Key::Sign(std::initializer_list<std::string_view> parts) const {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(ctx_);
  if (ctx == nullptr) std::abort();
  for (std::string_view p : parts) {
    if (!p.empty() && EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(p.data()), p.size()) != 1) {
      std::abort();
    }
  }
  std::string out(EVP_MAX_MD_SIZE, '\0');
  size_t len = 0;
  if (EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1) std::abort();
  EVP_MAC_CTX_free(ctx);
  out.resize(len);
  return out;
}

}  // namespace ulak::crypto
