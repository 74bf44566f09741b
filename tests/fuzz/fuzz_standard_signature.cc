// libFuzzer: the Standard Webhooks webhook-signature list parser and timestamp parser,
// alone and through the whole verifier.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "incoming/signature_headers.h"
#include "incoming/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ulak::incoming;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const std::string& sig : ParseStandardSignatures(input)) {
    if (sig.empty()) __builtin_trap();  // empty entries are skipped, never returned
  }
  (void)ParseUnixSeconds(input);
  static const std::vector<std::string> kSecrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  static const SourceOptions kOptions;
  const Headers headers = {{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                           {"webhook-timestamp", "1614265330"},
                           {"webhook-signature", std::string(input)}};
  const auto result = Verify(Provider::kStandard,
                             VerifyInput{R"({"test": 2432232315})", headers, kSecrets, kOptions,
                                         ulak::TimePoint(std::chrono::seconds(1'614'265'330))});
  if (result.ok()) __builtin_trap();  // the body differs from the signed vector's
  return 0;
}
