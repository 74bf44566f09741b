#include "crypto/jws.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <climits>
#include <memory>

#include "crypto/encoding.h"

namespace ulak::crypto {
namespace {

struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct BignumDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

// RFC 7515 §2: base64url without padding. Base64Decode is more lenient (it also takes the
// standard alphabet and padding), so the alphabet is checked first.
std::optional<std::string> DecodeSegment(std::string_view segment) {
  if (segment.empty()) return std::nullopt;
  for (const char c : segment) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  return Base64Decode(segment);
}

}  // namespace

Result<CompactJws> ParseCompactJws(std::string_view compact) {
  const size_t first = compact.find('.');
  if (first == std::string_view::npos) return Malformed("JWS is not in compact form");
  const size_t second = compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return Malformed("JWS is not in compact form");
  }
  auto header = DecodeSegment(compact.substr(0, first));
  auto payload = DecodeSegment(compact.substr(first + 1, second - first - 1));
  auto signature = DecodeSegment(compact.substr(second + 1));
  if (!header || !payload || !signature) return Malformed("JWS segment is not base64url");
  CompactJws jws;
  jws.signing_input = std::string(compact.substr(0, second));
  jws.header_json = std::move(*header);
  jws.payload = std::move(*payload);
  jws.signature = std::move(*signature);
  return jws;
}

Result<JwsHeader> ParseJwsHeader(std::string_view header_json) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 8;  // a header is flat; deep nesting is an attack, not a header
  const boost::json::value value = boost::json::parse(header_json, ec, {}, options);
  if (ec || !value.is_object()) return Malformed("JWS header is not a JSON object");
  const boost::json::object& object = value.get_object();

  JwsHeader header;
  const boost::json::value* alg = object.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return Malformed("JWS header has no string alg");
  header.alg = std::string(alg->get_string());

  if (const boost::json::value* crit = object.if_contains("crit"); crit != nullptr) {
    if (!crit->is_array() || !crit->get_array().empty()) {
      return Malformed("JWS header has critical extensions");
    }
  }
  if (const boost::json::value* x5c = object.if_contains("x5c"); x5c != nullptr) {
    if (!x5c->is_array()) return Malformed("JWS header x5c is not an array");
    for (const boost::json::value& entry : x5c->get_array()) {
      if (!entry.is_string()) return Malformed("JWS header x5c entry is not a string");
      // RFC 7515 §4.1.6: base64 (not base64url) DER.
      auto der = Base64Decode(entry.get_string());
      if (!der || der->empty()) return Malformed("JWS header x5c entry is not base64");
      header.x5c_der.push_back(std::move(*der));
    }
  }
  return header;
}

std::optional<std::string> EcdsaRawToDer(std::string_view raw, size_t coordinate_size) {
  if (coordinate_size == 0 || coordinate_size > 66 || raw.size() != 2 * coordinate_size) {
    return std::nullopt;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<BIGNUM, BignumDeleter> r(
      BN_bin2bn(bytes, static_cast<int>(coordinate_size), nullptr));
  std::unique_ptr<BIGNUM, BignumDeleter> s(
      BN_bin2bn(bytes + coordinate_size, static_cast<int>(coordinate_size), nullptr));
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  if (!r || !s || !sig) return std::nullopt;
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> EcdsaDerToRaw(std::string_view der, size_t coordinate_size) {
  if (coordinate_size == 0 || coordinate_size > 66 || der.empty() ||
      der.size() > static_cast<size_t>(LONG_MAX)) {
    return std::nullopt;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* const end = p + der.size();
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!sig || p != end) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * coordinate_size, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, buf, static_cast<int>(coordinate_size)) < 0 ||
      BN_bn2binpad(s, buf + coordinate_size, static_cast<int>(coordinate_size)) < 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  return out;
}

Status VerifyEs256X5c(const CompactJws& jws, const JwsHeader& header, const X5cPolicy& policy,
                      TimePoint at) {
  if (header.alg != "ES256") return Unauthenticated("JWS alg is not ES256");
  if (policy.chain_length < 2 || header.x5c_der.size() != policy.chain_length) {
    return Unauthenticated("JWS x5c does not have the expected number of certificates");
  }
  std::vector<Certificate> certs;
  certs.reserve(header.x5c_der.size());
  for (const std::string& der : header.x5c_der) {
    auto cert = Certificate::FromDer(der);
    if (!cert.ok()) return Unauthenticated("JWS x5c certificate is not valid DER");
    certs.push_back(std::move(cert).value());
  }
  // The last x5c entry claims to be the root; trust comes from policy.roots only, so it is
  // not handed to the verifier at all.
  const std::vector<Certificate> intermediates(certs.begin() + 1, certs.end() - 1);
  ULAK_RETURN_IF_ERROR(VerifyChain(certs[0], intermediates, policy.roots, at, policy.chain_length));
  for (const std::string& oid : policy.leaf_oids) {
    if (!certs[0].HasExtension(oid)) return Unauthenticated("leaf certificate lacks OID " + oid);
  }
  for (const std::string& oid : policy.intermediate_oids) {
    if (!certs[1].HasExtension(oid)) {
      return Unauthenticated("intermediate certificate lacks OID " + oid);
    }
  }
  auto der = EcdsaRawToDer(jws.signature, 32);
  if (!der) return Unauthenticated("JWS signature is not a 64-byte ES256 signature");
  Status verified = VerifyEcdsaP256Sha256(certs[0], jws.signing_input, *der);
  if (!verified.ok()) return Unauthenticated("JWS signature does not verify");
  return Status::Ok();
}

}  // namespace ulak::crypto
