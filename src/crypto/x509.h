// X.509 certificates over OpenSSL 3: parsing (DER, PEM), extension look-up, chain
// verification against caller-given roots at a caller-given time, and signature checks with
// a certificate's public key. No file system, no default trust store, no clock reads: the
// caller decides what is trusted and when, so verification is a pure function.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace ulak::crypto {

// An immutable parsed certificate. Cheap to move; copying shares the underlying X509
// (OpenSSL reference count), which is safe because nothing here mutates it.
class Certificate {
 public:
  // kMalformed when `der` is not exactly one DER certificate (trailing bytes included).
  static Result<Certificate> FromDer(std::string_view der);
  // The first "-----BEGIN CERTIFICATE-----" block of `pem`. kMalformed otherwise.
  static Result<Certificate> FromPem(std::string_view pem);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  ~Certificate() = default;

  std::string Der() const;
  // SHA-256 of the DER encoding, raw 32 bytes (what "SHA-256 fingerprint" means).
  std::string Sha256Fingerprint() const;
  // True when the certificate carries an extension with this dotted OID, e.g.
  // "1.2.840.113635.100.6.11.1", critical or not.
  bool HasExtension(std::string_view dotted_oid) const;
  // One-line subject, for logs and error messages (no secrets in certificates).
  std::string SubjectLine() const;

  // Borrowed pointer for OpenSSL calls; valid while this object lives.
  X509* get() const { return x509_.get(); }

 private:
  struct X509Deleter {
    void operator()(X509* x) const;
  };
  explicit Certificate(X509* owned) : x509_(owned) {}
  std::unique_ptr<X509, X509Deleter> x509_;
};

// Verifies that `leaf` chains through `intermediates` (untrusted, in any order) to one of
// `roots`, with X509_STRICT checks and validity evaluated at `at` (not at the current time).
// `expected_depth`, when non-zero, is the exact number of certificates the built chain must
// have (leaf and root included), so a leaf signed directly by a root cannot skip a required
// intermediate. kUnauthenticated with OpenSSL's reason otherwise.
Status VerifyChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                   const std::vector<Certificate>& roots, TimePoint at, size_t expected_depth = 0);

// Verifies an ECDSA P-256 / SHA-256 signature in DER form over `message` with `cert`'s
// public key. kUnauthenticated when the key is not P-256 or the signature does not verify.
Status VerifyEcdsaP256Sha256(const Certificate& cert, std::string_view message,
                             std::string_view der_signature);

}  // namespace ulak::crypto
