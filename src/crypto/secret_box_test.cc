#include "crypto/secret_box.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <regex>

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace ulak::crypto {
namespace {

const std::string kKeyA(32, 'A');
const std::string kKeyB(32, 'B');
const std::string kSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

SecretBox MakeBox(std::string current, std::vector<std::string> previous = {}) {
  Result<SecretBox> box = SecretBox::Create(std::move(current), std::move(previous));
  EXPECT_TRUE(box.ok()) << box.status().ToString();
  return std::move(box).value();
}

// The payload of a sealed value, decoded.
std::string Payload(const std::string& sealed) {
  const size_t colon = sealed.rfind(':');
  return Base64Decode(sealed.substr(colon + 1)).value_or("");
}

// AES-256-GCM decryption written out here with OpenSSL, not SecretBox's own code: pins the
// stored format (nonce || ciphertext || tag, key id as AAD) so other tools can read it.
std::optional<std::string> IndependentOpen(const std::string& key, const std::string& aad, const std::string& raw) {
  if (raw.size() < 28) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  std::string tag = raw.substr(raw.size() - 16);
  std::string out(raw.size() - 28, '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                               p) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, p + 12,
                              static_cast<int>(out.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return out;
}

TEST(SecretBox, SealThenOpenRoundTrips) {
  SecretBox box = MakeBox(kKeyA);
  SeededRandomForTest random(1);
  for (const std::string& plain : {kSecret, std::string("whsec_abc"), std::string(), std::string(5000, 'x')}) {
    Result<std::string> sealed = box.Seal(plain, random);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    if (!plain.empty()) {
      EXPECT_EQ(sealed->find(plain), std::string::npos);
    }
    Result<std::string> opened = box.Open(*sealed);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plain);
  }
}

TEST(SecretBox, SealedFormatIsPrefixKeyIdAndNonceCiphertextTag) {
  SecretBox box = MakeBox(kKeyA);
  SeededRandomForTest random(7);
  const std::string sealed = box.Seal(kSecret, random).value();
  const std::string key_id = Sha256Hex(kKeyA).substr(0, 8);
  EXPECT_EQ(box.current_key_id(), key_id);
  EXPECT_EQ(MasterKeyId(kKeyA), key_id);
  ASSERT_TRUE(std::regex_match(sealed, std::regex("enc:v1:[0-9a-f]{8}:[A-Za-z0-9+/]+=*"))) << sealed;
  EXPECT_EQ(sealed.substr(0, 16), "enc:v1:" + key_id + ":");
  const std::string raw = Payload(sealed);
  EXPECT_EQ(raw.size(), 12 + kSecret.size() + 16);
  EXPECT_EQ(IndependentOpen(kKeyA, key_id, raw), kSecret);
  EXPECT_EQ(IndependentOpen(kKeyA, "", raw), std::nullopt) << "the key id must be authenticated";
}

TEST(SecretBox, EverySealUsesAFreshNonce) {
  SecretBox box = MakeBox(kKeyA);
  SeededRandomForTest random(3);
  const std::string a = box.Seal(kSecret, random).value();
  const std::string b = box.Seal(kSecret, random).value();
  EXPECT_NE(a, b);
  EXPECT_NE(Payload(a).substr(0, 12), Payload(b).substr(0, 12));
}

TEST(SecretBox, AnyAlteredByteFailsAuthentication) {
  SecretBox box = MakeBox(kKeyA);
  SeededRandomForTest random(2);
  const std::string sealed = box.Seal(kSecret, random).value();
  const std::string prefix = sealed.substr(0, sealed.rfind(':') + 1);
  const std::string raw = Payload(sealed);
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string tampered = raw;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    Result<std::string> opened = box.Open(prefix + Base64Encode(tampered));
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.status().code(), ErrorCode::kInternal);
    EXPECT_NE(opened.status().message().find("failed authentication"), std::string::npos)
        << opened.status().message();
  }
  // Truncated: too short for a nonce and a tag.
  EXPECT_FALSE(box.Open(prefix + Base64Encode(raw.substr(0, 20))).ok());
  EXPECT_FALSE(box.Open(prefix + "!!!not base64!!!").ok());
  EXPECT_FALSE(box.Open("enc:v1:nothex:AAAA").ok());
  EXPECT_FALSE(box.Open("enc:v1:").ok());
}

TEST(SecretBox, RelabelledKeyIdIsRejected) {
  // A value moved under another key's id must not open, even when that key is in the ring.
  SecretBox box = MakeBox(kKeyA, {kKeyB});
  SeededRandomForTest random(4);
  const std::string sealed = box.Seal(kSecret, random).value();
  const std::string relabelled = "enc:v1:" + MasterKeyId(kKeyB) + sealed.substr(15);
  EXPECT_FALSE(box.Open(relabelled).ok());
}

TEST(SecretBox, WrongKeyCannotOpen) {
  SeededRandomForTest random(5);
  const std::string sealed = MakeBox(kKeyA).Seal(kSecret, random).value();
  EXPECT_FALSE(MakeBox(kKeyB).HasKeyFor(sealed));
  EXPECT_TRUE(MakeBox(kKeyB, {kKeyA}).HasKeyFor(sealed));
  EXPECT_TRUE(MakeBox(kKeyB).HasKeyFor(kSecret)) << "plaintext needs no key";
  Result<std::string> opened = MakeBox(kKeyB).Open(sealed);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kInternal);
  // The message names the missing key id and the remedy, never a key.
  EXPECT_NE(opened.status().message().find(MasterKeyId(kKeyA)), std::string::npos) << opened.status().message();
  EXPECT_NE(opened.status().message().find("ULAK_MASTER_KEY_PREVIOUS"), std::string::npos);
  EXPECT_EQ(opened.status().message().find(kKeyA), std::string::npos);
}

TEST(SecretBox, RotationOpensOldValuesAndSealsWithTheNewKey) {
  SeededRandomForTest random(6);
  const std::string old_sealed = MakeBox(kKeyA).Seal(kSecret, random).value();
  SecretBox rotated = MakeBox(kKeyB, {kKeyA});
  EXPECT_EQ(rotated.current_key_id(), MasterKeyId(kKeyB));
  EXPECT_EQ(rotated.key_ids(), (std::vector<std::string>{MasterKeyId(kKeyB), MasterKeyId(kKeyA)}));
  EXPECT_FALSE(rotated.IsSealedWithCurrentKey(old_sealed));
  EXPECT_EQ(rotated.Open(old_sealed).value(), kSecret);
  const std::string new_sealed = rotated.Seal(kSecret, random).value();
  EXPECT_TRUE(rotated.IsSealedWithCurrentKey(new_sealed));
  EXPECT_EQ(new_sealed.substr(7, 8), MasterKeyId(kKeyB));
  // Once the old key is dropped, only the re-sealed value opens.
  SecretBox only_new = MakeBox(kKeyB);
  EXPECT_EQ(only_new.Open(new_sealed).value(), kSecret);
  EXPECT_FALSE(only_new.Open(old_sealed).ok());
}

TEST(SecretBox, PlaintextFromBeforeEncryptionPassesThrough) {
  SecretBox box = MakeBox(kKeyA);
  EXPECT_EQ(box.Open(kSecret).value(), kSecret);
  EXPECT_EQ(box.Open("").value(), "");
  EXPECT_EQ(box.Open("enc:v2:future").value(), "enc:v2:future");
  EXPECT_FALSE(box.IsSealedWithCurrentKey(kSecret));
  EXPECT_FALSE(IsSealed(kSecret));
}

TEST(SecretBox, CreateRejectsBadKeysAndIgnoresRepeats) {
  EXPECT_FALSE(SecretBox::Create(std::string(31, 'a')).ok());
  EXPECT_FALSE(SecretBox::Create(kKeyA, {std::string(33, 'b')}).ok());
  Result<SecretBox> box = SecretBox::Create(kKeyA, {kKeyA, kKeyB, kKeyB});
  ASSERT_TRUE(box.ok());
  EXPECT_EQ(box->key_ids().size(), 2u);
}

TEST(SecretBox, ParseMasterKeyAcceptsHexAndBase64) {
  const std::string hex = HexEncode(kKeyB);
  EXPECT_EQ(ParseMasterKey(hex).value(), kKeyB);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(ParseMasterKey(upper).value(), kKeyB);
  EXPECT_EQ(ParseMasterKey(hex + "\n").value(), kKeyB);  // a key file's trailing newline
  EXPECT_EQ(ParseMasterKey(Base64Encode(kKeyB)).value(), kKeyB);
  EXPECT_EQ(ParseMasterKey(Base64UrlEncode(kKeyB)).value(), kKeyB);
}

TEST(SecretBox, ParseMasterKeyErrorsAreClearAndDoNotEchoTheKey) {
  const std::string short_hex = HexEncode(std::string(16, 'k'));  // 32 hex chars = base64 of 24 bytes
  const std::string long_b64 = Base64Encode(std::string(48, 'k'));
  for (const std::string& bad : {std::string(), std::string("   "), std::string(63, 'a'), short_hex, long_b64,
                                 std::string("not a key at all!")}) {
    Result<std::string> r = ParseMasterKey(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("32 bytes"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("openssl rand -hex 32"), std::string::npos);
    if (bad.size() > 4) {
      EXPECT_EQ(r.status().message().find(bad), std::string::npos) << r.status().message();
    }
  }
}

}  // namespace
}  // namespace ulak::crypto
