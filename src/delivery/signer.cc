#include "delivery/signer.h"

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/hmac_key.h"
#include "delivery/webhook_config.h"

namespace ulak::delivery {

std::string NewSecretKey(Random& random) { return crypto::HexEncode(random.Bytes(32)); }

std::string StandardWebhooksSecret(std::string_view secret_key_hex) {
  return "whsec_" + crypto::Base64Encode(StandardWebhooksKey(secret_key_hex));
}

std::string StandardWebhooksKey(std::string_view secret_key_hex) {
  return crypto::HexDecode(secret_key_hex).value_or("");
}

std::string SignatureSeed001(std::string_view secret_key_hex, std::string_view body) {
  return crypto::HexEncode(crypto::HmacSha256(secret_key_hex, body));
}

namespace {

constexpr std::string_view kSigningKeyPrefix = "whsk_";
constexpr std::string_view kPublicKeyPrefix = "whpk_";

std::string SignedContent(std::string_view message_id, int64_t timestamp_s, std::string_view body) {
  std::string message;
  message.reserve(message_id.size() + body.size() + 24);
  message.append(message_id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
  return message;
}

}  // namespace

std::string SignatureStandard(std::string_view secret_key_hex, std::string_view message_id,
                              int64_t timestamp_s, std::string_view body) {
  const std::string key = StandardWebhooksKey(secret_key_hex);
  return "v1," + crypto::Base64Encode(crypto::HmacSha256(key, SignedContent(message_id, timestamp_s, body)));
}

namespace {

// "v1,<base64>" with a prepared key, the signed content fed in parts (no copy of the body).
std::string SignatureStandardWith(const crypto::HmacSha256Key& key, std::string_view message_id, int64_t timestamp_s,
                                  std::string_view body) {
  const std::string ts = std::to_string(timestamp_s);
  return "v1," + crypto::Base64Encode(key.Sign({message_id, ".", ts, ".", body}));
}

}  // namespace

std::string WebhookSignatureSeed001(const WebhookConfig& config, std::string_view body) {
  if (config.seed001_key) return crypto::HexEncode(config.seed001_key->Sign({body}));
  return SignatureSeed001(config.record.secret_key, body);
}

std::string NewSigningKey(Random& random) {
  const std::string seed = random.Bytes(crypto::kEd25519SeedBytes);
  Result<crypto::Ed25519PrivateKey> key = crypto::Ed25519PrivateKey::FromSeed(seed);
  // REQUIRES-like: FromSeed fails only when OpenSSL cannot allocate; an empty key is refused
  // by ParseWebhookConfig, so such a webhook never signs with a broken key.
  if (!key.ok()) return {};
  return std::string(kSigningKeyPrefix) + crypto::Base64Encode(seed + key->public_key());
}

Result<crypto::Ed25519PrivateKey> ParseSigningKey(std::string_view whsk) {
  if (whsk.substr(0, kSigningKeyPrefix.size()) != kSigningKeyPrefix) {
    return InvalidArgument("an Ed25519 signing key starts with whsk_");
  }
  std::optional<std::string> bytes = crypto::Base64Decode(whsk.substr(kSigningKeyPrefix.size()));
  if (!bytes || bytes->size() != crypto::kEd25519SeedBytes + crypto::kEd25519PublicKeyBytes) {
    return InvalidArgument("an Ed25519 signing key is whsk_ and the base64 of 64 bytes");
  }
  ULAK_ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                        crypto::Ed25519PrivateKey::FromSeed(std::string_view(*bytes).substr(0, crypto::kEd25519SeedBytes)));
  if (key.public_key() != std::string_view(*bytes).substr(crypto::kEd25519SeedBytes)) {
    return InvalidArgument("the Ed25519 signing key's public half does not match its seed");
  }
  return key;
}

std::string SigningPublicKey(std::string_view whsk) {
  Result<crypto::Ed25519PrivateKey> key = ParseSigningKey(whsk);
  if (!key.ok()) return {};
  return std::string(kPublicKeyPrefix) + crypto::Base64Encode(key->public_key());
}

std::string SignatureEd25519(const crypto::Ed25519PrivateKey& key, std::string_view message_id, int64_t timestamp_s,
                             std::string_view body) {
  return "v1a," + crypto::Base64Encode(key.Sign(SignedContent(message_id, timestamp_s, body)));
}

std::string WebhookSignatureHeader(const WebhookConfig& config, std::string_view message_id, int64_t timestamp_s,
                                   std::string_view body, TimePoint now) {
  const store::Webhook& w = config.record;
  const bool grace = w.previous_secret_expires_at && now < *w.previous_secret_expires_at;
  std::string header;
  if (config.signing_key) {  // ed25519
    header = SignatureEd25519(*config.signing_key, message_id, timestamp_s, body);
    if (grace && config.previous_signing_key) {
      header += ' ';
      header += SignatureEd25519(*config.previous_signing_key, message_id, timestamp_s, body);
    }
    return header;
  }
  header = config.standard_key ? SignatureStandardWith(*config.standard_key, message_id, timestamp_s, body)
                               : SignatureStandard(w.secret_key, message_id, timestamp_s, body);
  if (grace && !w.previous_secret_key.empty()) {
    header += ' ';
    header += config.previous_standard_key
                  ? SignatureStandardWith(*config.previous_standard_key, message_id, timestamp_s, body)
                  : SignatureStandard(w.previous_secret_key, message_id, timestamp_s, body);
  }
  return header;
}

}  // namespace ulak::delivery
