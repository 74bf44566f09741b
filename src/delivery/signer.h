// The two signatures every delivery carries (SPEC §3).
//
// - X-Webhook-Signature (seed 001): lowercase hex HMAC-SHA256 of the raw body, keyed with
//   the secret_key *string* (its 64 hex characters as UTF-8), exactly as seed 001's Python
//   and Node verifiers compute it.
// - Standard Webhooks: webhook-signature "v1,<base64 HMAC-SHA256 of '{id}.{ts}.{body}'>",
//   keyed with the 32 bytes the secret_key encodes; the same key is handed to users as
//   "whsec_<base64>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/random.h"

namespace ulak::delivery {

// 256 random bits as 64 lowercase hex characters.
std::string NewSecretKey(Random& random);
// "whsec_" + base64 of the bytes the hex secret_key encodes.
std::string StandardWebhooksSecret(std::string_view secret_key_hex);

std::string SignatureSeed001(std::string_view secret_key_hex, std::string_view body);
// One "v1,<base64>" entry (without any other signatures).
std::string SignatureStandard(std::string_view secret_key_hex, std::string_view message_id,
                              int64_t timestamp_s, std::string_view body);

}  // namespace ulak::delivery
