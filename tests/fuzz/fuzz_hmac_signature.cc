// libFuzzer: the generic HMAC header parser (prefix, hex or base64) and the GitHub, Shopify
// and hmac verifiers that use it. The first byte picks the configuration.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "incoming/signature_headers.h"
#include "incoming/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ulak::incoming;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view header(reinterpret_cast<const char*>(data) + 1, size - 1);
  SourceOptions options;
  options.signature_header = "X-Sig";
  options.encoding =
      (selector & 1) ? SourceOptions::Encoding::kBase64 : SourceOptions::Encoding::kHex;
  options.prefix = (selector & 2) ? "sha256=" : "";
  options.algorithm =
      (selector & 4) ? ulak::crypto::HashAlgorithm::kSha512 : ulak::crypto::HashAlgorithm::kSha256;
  (void)ParseHmacSignature(header, options.prefix, options.encoding);

  static const std::vector<std::string> kSecrets = {"It's a Secret to Everybody"};
  const Headers headers = {{"X-Sig", std::string(header)},
                           {"X-Hub-Signature-256", std::string(header)},
                           {"X-Shopify-Hmac-Sha256", std::string(header)},
                           {"X-GitHub-Event", "push"},
                           {"X-GitHub-Delivery", "d"},
                           {"X-Shopify-Topic", "t"},
                           {"X-Shopify-Webhook-Id", "i"}};
  const ulak::TimePoint now(std::chrono::seconds(1'700'000'000));
  for (Provider provider : {Provider::kHmac, Provider::kGithub, Provider::kShopify}) {
    const auto result =
        Verify(provider, VerifyInput{R"({"a":1})", headers, kSecrets, options, now});
    if (result.ok()) __builtin_trap();  // would be a forged MAC
  }
  return 0;
}
