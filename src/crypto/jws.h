// JSON Web Signatures (RFC 7515) in compact form, as far as incoming webhooks need them:
// parsing, the protected header's "alg" and "x5c", ES256 signatures (raw R||S, RFC 7518
// §3.4) and verification against the x5c certificate chain. Pure functions, no clock reads.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/x509.h"

namespace ulak::crypto {

struct CompactJws {
  std::string signing_input;  // "<b64url header>.<b64url payload>" exactly as received
  std::string header_json;    // decoded protected header
  std::string payload;        // decoded payload bytes
  std::string signature;      // decoded signature bytes
};

// Splits "<header>.<payload>.<signature>" (base64url without padding, none empty).
// kMalformed otherwise; the message never quotes the input.
Result<CompactJws> ParseCompactJws(std::string_view compact);

struct JwsHeader {
  std::string alg;
  std::vector<std::string> x5c_der;  // DER certificates, leaf first (empty when absent)
};

// Reads the protected header JSON: an object with a string "alg" and, when present, an
// "x5c" array of base64 DER strings. A non-empty "crit" is refused (RFC 7515 §4.1.11: we
// understand no extension). kMalformed otherwise.
Result<JwsHeader> ParseJwsHeader(std::string_view header_json);

// ECDSA signature encodings: JWS uses R||S, each `coordinate_size` bytes big-endian; OpenSSL
// uses DER ECDSA-Sig-Value. nullopt when the input is not of that form.
std::optional<std::string> EcdsaRawToDer(std::string_view raw, size_t coordinate_size = 32);
std::optional<std::string> EcdsaDerToRaw(std::string_view der, size_t coordinate_size = 32);

// What an x5c-signed JWS must satisfy, besides alg ES256.
struct X5cPolicy {
  std::vector<Certificate> roots;              // trusted roots; x5c's own last entry is ignored
  size_t chain_length = 3;                     // exact number of x5c entries (leaf, ..., root)
  std::vector<std::string> leaf_oids;          // extensions the leaf must carry
  std::vector<std::string> intermediate_oids;  // extensions x5c[1] must carry
};

// Verifies `jws` (whose header is `header`) as Apple signs App Store data: alg ES256, x5c
// of exactly policy.chain_length certificates, the chain x5c[0] → x5c[1..n-2] → one of
// policy.roots valid at `at` (X509_STRICT), the marker extensions, then the ES256 signature
// with the leaf key over the signing input. kUnauthenticated with a short reason otherwise.
Status VerifyEs256X5c(const CompactJws& jws, const JwsHeader& header, const X5cPolicy& policy,
                      TimePoint at);

}  // namespace ulak::crypto
