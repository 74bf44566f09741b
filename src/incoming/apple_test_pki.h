// TEST ONLY. A throwaway PKI shaped like Apple's App Store signing chain (root →
// intermediate with OID 1.2.840.113635.100.6.2.1 → leaf with 1.2.840.113635.100.6.11.1, EC
// P-256), and ES256 JWS signing with x5c, built with OpenSSL at test time. The
// implementation lives in apple_test_pki_test.cc so it is compiled into the unit tests
// only, never into ulak_core.
#pragma once

#include <openssl/types.h>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace ulak::incoming::testing {

inline constexpr std::string_view kAppleLeafOid = "1.2.840.113635.100.6.11.1";
inline constexpr std::string_view kAppleIntermediateOid = "1.2.840.113635.100.6.2.1";

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const;
};
struct X509Deleter {
  void operator()(X509* x) const;
};

struct TestCert {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key;
  std::unique_ptr<X509, X509Deleter> cert;
  std::string Der() const;
  std::string Pem() const;
};

struct CertSpec {
  std::string common_name;
  bool ca = false;
  std::vector<std::string> marker_oids;  // non-critical extensions holding DER NULL
  TimePoint not_before;
  TimePoint not_after;
};

// A fresh P-256 key and a certificate for it signed by `issuer` (self-signed when null).
TestCert MakeCertForTest(const CertSpec& spec, const TestCert* issuer);

struct PkiOptions {
  TimePoint valid_from = TimePoint(std::chrono::seconds(1'600'000'000));
  TimePoint valid_until = TimePoint(std::chrono::seconds(1'900'000'000));
  // The leaf's own window, so a test can expire the leaf alone.
  TimePoint leaf_valid_from = TimePoint(std::chrono::seconds(1'600'000'000));
  TimePoint leaf_valid_until = TimePoint(std::chrono::seconds(1'900'000'000));
  bool leaf_marker = true;
  bool intermediate_marker = true;
};

struct ApplePki {
  TestCert root;
  TestCert intermediate;
  TestCert leaf;
};
ApplePki MakeApplePkiForTest(const PkiOptions& options = {});

// Signs `payload` as a compact JWS: header {"alg": alg, "x5c": [leaf, intermediate, root]
// truncated to x5c_count], signature ES256 (raw R||S) with the leaf key whatever `alg` says.
std::string SignJwsForTest(const ApplePki& pki, const boost::json::value& payload,
                           std::string_view alg = "ES256", size_t x5c_count = 3);

}  // namespace ulak::incoming::testing
