// libFuzzer: the Stripe-Signature parser, alone and through the whole Stripe verifier.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "incoming/signature_headers.h"
#include "incoming/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ulak::incoming;
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  if (auto parsed = ParseStripeSignature(header)) {
    if (parsed->timestamp < 0) __builtin_trap();  // digits only: never negative
  }
  static const std::vector<std::string> kSecrets = {"whsec_test_secret", "whsec_other"};
  static const SourceOptions kOptions;
  const Headers headers = {{"Stripe-Signature", std::string(header)}};
  const auto result = Verify(
      Provider::kStripe, VerifyInput{R"({"id":"evt_1","type":"t"})", headers, kSecrets, kOptions,
                                     ulak::TimePoint(std::chrono::seconds(1'700'000'000))});
  // Any header the fuzzer finds that verifies would be a forged signature.
  if (result.ok()) __builtin_trap();
  return 0;
}
