// Signatures computed the way receivers compute them, straight on OpenSSL and not with
// ulak's own crypto code, so an e2e test that checks a delivery's signature does not share
// a bug with the code under test.
#pragma once

#include <string>

namespace ulak::testing {

std::string HmacSha256(const std::string& key, const std::string& message);
std::string HexEncode(const std::string& raw);
std::string HexDecode(const std::string& hex);
std::string Base64(const std::string& raw);
// X-Webhook-Signature as seed 001 defines it: hex HMAC-SHA256 keyed by the secret_key string.
std::string SeedSignature(const std::string& secret_key, const std::string& body);
// One webhook-signature entry as Standard Webhooks defines it, keyed by the 32 bytes the
// hex secret_key encodes.
std::string StandardSignature(const std::string& secret_key, const std::string& id, const std::string& timestamp,
                              const std::string& body);

}  // namespace ulak::testing
