#include "delivery/signer.h"

#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace ulak::delivery {

std::string NewSecretKey(Random& random) { return crypto::HexEncode(random.Bytes(32)); }

std::string StandardWebhooksSecret(std::string_view secret_key_hex) {
  return "whsec_" + crypto::Base64Encode(crypto::HexDecode(secret_key_hex).value_or(""));
}

std::string SignatureSeed001(std::string_view secret_key_hex, std::string_view body) {
  return crypto::HexEncode(crypto::HmacSha256(secret_key_hex, body));
}

std::string SignatureStandard(std::string_view secret_key_hex, std::string_view message_id,
                              int64_t timestamp_s, std::string_view body) {
  const std::string key = crypto::HexDecode(secret_key_hex).value_or("");
  std::string message;
  message.reserve(message_id.size() + body.size() + 24);
  message.append(message_id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
  return "v1," + crypto::Base64Encode(crypto::HmacSha256(key, message));
}

}  // namespace ulak::delivery
