// The two signatures every delivery carries (SPEC §3).
//
// - X-Webhook-Signature (seed 001): lowercase hex HMAC-SHA256 of the raw body, keyed with
//   the secret_key *string* (its 64 hex characters as UTF-8), exactly as seed 001's Python
//   and Node verifiers compute it.
// - Standard Webhooks: webhook-signature "v1,<base64 HMAC-SHA256 of '{id}.{ts}.{body}'>",
//   keyed with the 32 bytes the secret_key encodes; the same key is handed to users as
//   "whsec_<base64>".
// - With signature_scheme "ed25519" (Standard Webhooks asymmetric signatures):
//   webhook-signature "v1a,<base64 of the 64-byte Ed25519 signature of '{id}.{ts}.{body}'>"
//   instead of the v1 entries. The private key is kept as "whsk_<base64 of seed || public
//   key>" (64 bytes, the form Svix and libsodium use); receivers get "whpk_<base64 of the
//   32-byte public key>". X-Webhook-Signature (seed 001) is sent with either scheme.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "crypto/ed25519.h"

namespace ulak::delivery {

// 256 random bits as 64 lowercase hex characters.
std::string NewSecretKey(Random& random);
// "whsec_" + base64 of the bytes the hex secret_key encodes.
std::string StandardWebhooksSecret(std::string_view secret_key_hex);
// The bytes the hex secret_key encodes: Standard Webhooks' HMAC key (empty if not hex).
std::string StandardWebhooksKey(std::string_view secret_key_hex);

std::string SignatureSeed001(std::string_view secret_key_hex, std::string_view body);
// One "v1,<base64>" entry (without any other signatures).
std::string SignatureStandard(std::string_view secret_key_hex, std::string_view message_id,
                              int64_t timestamp_s, std::string_view body);

// A new Ed25519 private key, "whsk_...".
std::string NewSigningKey(Random& random);
// Parses "whsk_..." (64 bytes: seed, then the public key it must derive).
Result<crypto::Ed25519PrivateKey> ParseSigningKey(std::string_view whsk);
// "whpk_<base64 of the public key>" of a "whsk_..." key; empty if it does not parse.
std::string SigningPublicKey(std::string_view whsk);
// One "v1a,<base64>" entry.
std::string SignatureEd25519(const crypto::Ed25519PrivateKey& key, std::string_view message_id, int64_t timestamp_s,
                             std::string_view body);

struct WebhookConfig;
// The whole webhook-signature header for one try: the webhook's scheme, current key first,
// then the previous key's signature while a rotation's grace period runs (before
// previous_secret_expires_at), space-separated as Standard Webhooks defines. Uses the keys
// the config prepared (webhook_config.h) and never copies `body`.
// X-Webhook-Signature (seed 001) with the config's prepared key.
std::string WebhookSignatureSeed001(const WebhookConfig& config, std::string_view body);
std::string WebhookSignatureHeader(const WebhookConfig& config, std::string_view message_id, int64_t timestamp_s,
                                   std::string_view body, TimePoint now);

}  // namespace ulak::delivery
