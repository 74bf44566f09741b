// The implementation of apple_test_pki.h (see there), plus checks that the PKI it builds is
// what the Apple tests assume. Named *_test.cc so ulak_core never links it.
#include "incoming/apple_test_pki.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "crypto/encoding.h"
#include "crypto/jws.h"
#include "crypto/x509.h"

namespace ulak::incoming::testing {
namespace {

// A helper that cannot build its PKI cannot test anything; failing loudly beats a test
// that passes on a half-built certificate.
void Check(bool ok, const char* what) {
  if (!ok) {
    ADD_FAILURE() << "test PKI: " << what << " failed";
    std::abort();
  }
}

time_t ToTimeT(TimePoint t) {
  return static_cast<time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

void AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, ctx, nid, value);
  Check(ext != nullptr, "X509V3_EXT_nconf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

void AddMarker(X509* cert, const std::string& oid) {
  ASN1_OBJECT* object = OBJ_txt2obj(oid.c_str(), 1);
  Check(object != nullptr, "OBJ_txt2obj");
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  static const unsigned char kDerNull[] = {0x05, 0x00};  // what Apple's certificates carry
  Check(ASN1_OCTET_STRING_set(value, kDerNull, sizeof(kDerNull)) == 1, "ASN1_OCTET_STRING_set");
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, object, 0, value);
  Check(ext != nullptr, "X509_EXTENSION_create_by_OBJ");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(value);
  ASN1_OBJECT_free(object);
}

}  // namespace

void PkeyDeleter::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
void X509Deleter::operator()(X509* x) const { X509_free(x); }

std::string TestCert::Der() const {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(cert.get(), &buf);
  Check(len > 0, "i2d_X509");
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string TestCert::Pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(bio != nullptr && PEM_write_bio_X509(bio, cert.get()) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

TestCert MakeCertForTest(const CertSpec& spec, const TestCert* issuer) {
  static std::atomic<long> next_serial{1};
  TestCert out;
  out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Check(out.key != nullptr, "EVP_PKEY_Q_keygen");
  out.cert.reset(X509_new());
  X509* x = out.cert.get();
  Check(x != nullptr, "X509_new");
  Check(X509_set_version(x, X509_VERSION_3) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(x), next_serial++) == 1, "serial");
  Check(ASN1_TIME_set(X509_getm_notBefore(x), ToTimeT(spec.not_before)) != nullptr, "notBefore");
  Check(ASN1_TIME_set(X509_getm_notAfter(x), ToTimeT(spec.not_after)) != nullptr, "notAfter");
  X509_NAME* name = X509_get_subject_name(x);
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                   -1, -1, 0) == 1,
        "CN");
  Check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("ulak tests"), -1, -1,
                                   0) == 1,
        "O");
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : x;
  EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  Check(X509_set_issuer_name(x, X509_get_subject_name(issuer_cert)) == 1, "issuer");
  Check(X509_set_pubkey(x, out.key.get()) == 1, "X509_set_pubkey");

  // The extensions X509_STRICT insists on: critical basicConstraints and key identifiers.
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, x, nullptr, nullptr, 0);
  AddExtension(x, &ctx, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExtension(x, &ctx, NID_key_usage,
               spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  AddExtension(x, &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) AddExtension(x, &ctx, NID_authority_key_identifier, "keyid:always");
  for (const std::string& oid : spec.marker_oids) AddMarker(x, oid);

  Check(X509_sign(x, issuer_key, EVP_sha256()) > 0, "X509_sign");
  return out;
}

ApplePki MakeApplePkiForTest(const PkiOptions& options) {
  ApplePki pki;
  pki.root =
      MakeCertForTest({"Test Root CA", true, {}, options.valid_from, options.valid_until}, nullptr);
  std::vector<std::string> intermediate_oids;
  if (options.intermediate_marker) intermediate_oids.emplace_back(kAppleIntermediateOid);
  pki.intermediate = MakeCertForTest(
      {"Test WWDR Intermediate", true, intermediate_oids, options.valid_from, options.valid_until},
      &pki.root);
  std::vector<std::string> leaf_oids;
  if (options.leaf_marker) leaf_oids.emplace_back(kAppleLeafOid);
  pki.leaf = MakeCertForTest({"Test App Store Signing", false, leaf_oids, options.leaf_valid_from,
                              options.leaf_valid_until},
                             &pki.intermediate);
  return pki;
}

std::string SignJwsForTest(const ApplePki& pki, const boost::json::value& payload,
                           std::string_view alg, size_t x5c_count) {
  boost::json::array x5c;
  const TestCert* chain[] = {&pki.leaf, &pki.intermediate, &pki.root};
  for (size_t i = 0; i < x5c_count && i < 3; ++i) {
    x5c.emplace_back(crypto::Base64Encode(chain[i]->Der()));
  }
  boost::json::object header;
  header["alg"] = alg;
  header["x5c"] = std::move(x5c);
  const std::string signing_input = crypto::Base64UrlEncode(boost::json::serialize(header)) + "." +
                                    crypto::Base64UrlEncode(boost::json::serialize(payload));

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Check(ctx != nullptr, "EVP_MD_CTX_new");
  Check(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pki.leaf.key.get()) == 1,
        "EVP_DigestSignInit");
  size_t len = 0;
  const auto* message = reinterpret_cast<const unsigned char*>(signing_input.data());
  Check(EVP_DigestSign(ctx, nullptr, &len, message, signing_input.size()) == 1, "size");
  std::string der(len, '\0');
  Check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len, message,
                       signing_input.size()) == 1,
        "EVP_DigestSign");
  EVP_MD_CTX_free(ctx);
  der.resize(len);
  const auto raw = crypto::EcdsaDerToRaw(der, 32);
  Check(raw.has_value(), "EcdsaDerToRaw");
  return signing_input + "." + crypto::Base64UrlEncode(*raw);
}

namespace {

TEST(AppleTestPki, BuildsAStrictChainWithTheMarkerOids) {
  const ApplePki pki = MakeApplePkiForTest();
  auto root = crypto::Certificate::FromDer(pki.root.Der());
  auto intermediate = crypto::Certificate::FromDer(pki.intermediate.Der());
  auto leaf = crypto::Certificate::FromPem(pki.leaf.Pem());
  ASSERT_TRUE(root.ok() && intermediate.ok() && leaf.ok());
  EXPECT_TRUE(leaf->HasExtension(kAppleLeafOid));
  EXPECT_TRUE(intermediate->HasExtension(kAppleIntermediateOid));
  EXPECT_FALSE(leaf->HasExtension(kAppleIntermediateOid));
  const Status status = crypto::VerifyChain(*leaf, {*intermediate}, {*root},
                                            TimePoint(std::chrono::seconds(1'700'000'000)), 3);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

}  // namespace
}  // namespace ulak::incoming::testing
