#include "crypto/x509.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "incoming/apple_test_pki.h"

namespace ulak::crypto {
namespace {

using incoming::testing::MakeApplePkiForTest;
using std::chrono::seconds;

const TimePoint kAt = TimePoint(seconds(1'700'000'000));

TEST(X509, ParsesDerAndPemAlike) {
  const auto pki = MakeApplePkiForTest();
  auto from_der = Certificate::FromDer(pki.leaf.Der());
  auto from_pem = Certificate::FromPem(pki.leaf.Pem());
  ASSERT_TRUE(from_der.ok() && from_pem.ok());
  EXPECT_EQ(from_der->Der(), from_pem->Der());
  EXPECT_EQ(from_der->Sha256Fingerprint().size(), 32u);
  EXPECT_NE(from_der->SubjectLine().find("Test App Store Signing"), std::string::npos);
  const Certificate copy = *from_der;  // shares the X509, which outlives the original
  from_der = Certificate::FromDer(pki.root.Der());
  EXPECT_EQ(copy.Der(), pki.leaf.Der());
}

TEST(X509, RefusesWhatIsNotOneCertificate) {
  const auto pki = MakeApplePkiForTest();
  EXPECT_EQ(Certificate::FromDer("").status().code(), ErrorCode::kMalformed);
  EXPECT_FALSE(Certificate::FromDer("garbage").ok());
  EXPECT_FALSE(Certificate::FromDer(pki.leaf.Der() + "x").ok());
  EXPECT_FALSE(Certificate::FromDer(pki.leaf.Der().substr(0, 100)).ok());
  EXPECT_FALSE(
      Certificate::FromPem("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").ok());
}

TEST(X509, HasExtensionTakesDottedOidsOnly) {
  const auto pki = MakeApplePkiForTest();
  auto leaf = Certificate::FromDer(pki.leaf.Der()).value();
  EXPECT_TRUE(leaf.HasExtension("1.2.840.113635.100.6.11.1"));
  EXPECT_TRUE(leaf.HasExtension("2.5.29.19"));  // basicConstraints
  EXPECT_FALSE(leaf.HasExtension("basicConstraints"));
  EXPECT_FALSE(leaf.HasExtension("not an oid"));
  EXPECT_FALSE(leaf.HasExtension("1.2.840.113635.100.6.2.1"));
}

TEST(X509, VerifyChainChecksRootTimeAndDepth) {
  const auto pki = MakeApplePkiForTest();
  const auto other = MakeApplePkiForTest();
  const Certificate leaf = Certificate::FromDer(pki.leaf.Der()).value();
  const Certificate intermediate = Certificate::FromDer(pki.intermediate.Der()).value();
  const Certificate root = Certificate::FromDer(pki.root.Der()).value();
  const Certificate other_root = Certificate::FromDer(other.root.Der()).value();

  EXPECT_TRUE(VerifyChain(leaf, {intermediate}, {root}, kAt, 3).ok());
  EXPECT_TRUE(VerifyChain(leaf, {intermediate}, {other_root, root}, kAt, 3).ok());
  EXPECT_EQ(VerifyChain(leaf, {intermediate}, {other_root}, kAt, 3).code(),
            ErrorCode::kUnauthenticated);
  EXPECT_FALSE(VerifyChain(leaf, {}, {root}, kAt).ok());  // intermediate missing
  EXPECT_FALSE(VerifyChain(leaf, {intermediate}, {}, kAt).ok());
  EXPECT_FALSE(VerifyChain(leaf, {intermediate}, {root}, kAt, 2).ok());
  // An intermediate trusted as a root shortens the chain: refused when the depth is fixed.
  EXPECT_FALSE(VerifyChain(leaf, {}, {intermediate}, kAt, 3).ok());
  const Status expired =
      VerifyChain(leaf, {intermediate}, {root}, TimePoint(seconds(1'950'000'000)), 3);
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired.message();
  const Status early =
      VerifyChain(leaf, {intermediate}, {root}, TimePoint(seconds(1'500'000'000)), 3);
  EXPECT_NE(early.message().find("not yet valid"), std::string::npos) << early.message();
}

TEST(X509, VerifiesEcdsaSignaturesWithTheCertificateKey) {
  const auto pki = MakeApplePkiForTest();
  const Certificate leaf = Certificate::FromDer(pki.leaf.Der()).value();
  EXPECT_EQ(VerifyEcdsaP256Sha256(leaf, "message", "not a signature").code(),
            ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace ulak::crypto
