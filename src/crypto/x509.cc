#include "crypto/x509.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <climits>
#include <ctime>

#include "crypto/hash.h"

namespace ulak::crypto {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackDeleter {
  // The stack borrows its certificates; only the stack itself is freed.
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
struct ObjectDeleter {
  void operator()(ASN1_OBJECT* o) const { ASN1_OBJECT_free(o); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

void Certificate::X509Deleter::operator()(X509* x) const { X509_free(x); }

Certificate::Certificate(const Certificate& other) : x509_(nullptr) {
  if (other.x509_ && X509_up_ref(other.x509_.get()) == 1) x509_.reset(other.x509_.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    if (other.x509_ && X509_up_ref(other.x509_.get()) == 1) {
      x509_.reset(other.x509_.get());
    } else {
      x509_.reset();
    }
  }
  return *this;
}

Result<Certificate> Certificate::FromDer(std::string_view der) {
  if (der.empty() || der.size() > static_cast<size_t>(LONG_MAX)) {
    return Malformed("certificate is empty");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* const end = p + der.size();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  ERR_clear_error();
  if (x == nullptr) return Malformed("certificate is not valid DER");
  Certificate cert(x);
  // Trailing bytes would make two different byte strings name one certificate.
  if (p != end) return Malformed("certificate has trailing bytes");
  return cert;
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  if (pem.empty() || pem.size() > static_cast<size_t>(INT_MAX)) {
    return Malformed("certificate PEM is empty");
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Internal("BIO_new_mem_buf failed");
  X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (x == nullptr) return Malformed("not a PEM certificate");
  return Certificate(x);
}

std::string Certificate::Der() const {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(x509_.get(), &buf);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string Certificate::Sha256Fingerprint() const { return Sha256(Der()); }

bool Certificate::HasExtension(std::string_view dotted_oid) const {
  const std::string oid_text(dotted_oid);
  // no_name = 1: only the numeric form is accepted, so a short name cannot alias an OID.
  std::unique_ptr<ASN1_OBJECT, ObjectDeleter> oid(OBJ_txt2obj(oid_text.c_str(), 1));
  if (!oid) {
    ERR_clear_error();
    return false;
  }
  return X509_get_ext_by_OBJ(x509_.get(), oid.get(), -1) >= 0;
}

std::string Certificate::SubjectLine() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(x509_.get()), 0, XN_FLAG_ONELINE);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

Status VerifyChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                   const std::vector<Certificate>& roots, TimePoint at, size_t expected_depth) {
  if (roots.empty()) return Unauthenticated("no trusted root configured");
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), StackDeleter> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return Internal("OpenSSL allocation failed");
  for (const Certificate& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      ERR_clear_error();  // a duplicate root is harmless
    }
  }
  for (const Certificate& cert : intermediates) {
    if (sk_X509_push(untrusted.get(), cert.get()) <= 0) return Internal("sk_X509_push failed");
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    ERR_clear_error();
    return Internal("X509_STORE_CTX_init failed");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(seconds));

  const int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (ok != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    return Unauthenticated(std::string("certificate chain rejected: ") +
                           X509_verify_cert_error_string(err));
  }
  if (expected_depth != 0) {
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    if (chain == nullptr || static_cast<size_t>(sk_X509_num(chain)) != expected_depth) {
      return Unauthenticated("certificate chain has an unexpected length");
    }
  }
  return Status::Ok();
}

Status VerifyEcdsaP256Sha256(const Certificate& cert, std::string_view message,
                             std::string_view der_signature) {
  EVP_PKEY* key = X509_get0_pubkey(cert.get());  // borrowed
  if (key == nullptr) {
    ERR_clear_error();
    return Unauthenticated("certificate has no usable public key");
  }
  char group[64] = {};
  size_t group_len = 0;
  if (!EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1 ||
      std::string_view(group, group_len) != "prime256v1") {
    ERR_clear_error();
    return Unauthenticated("certificate key is not EC P-256");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return Internal("EVP_MD_CTX_new failed");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    ERR_clear_error();
    return Internal("EVP_DigestVerifyInit failed");
  }
  const int ok = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(der_signature.data()), der_signature.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();
  if (ok != 1) return Unauthenticated("signature does not verify");
  return Status::Ok();
}

}  // namespace ulak::crypto
