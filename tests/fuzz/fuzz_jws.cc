// libFuzzer: the compact JWS decoder and header reader, the ECDSA signature conversion, and
// the App Store verifier (certificate parsing and chain building on whatever x5c the input
// carries) against the embedded Apple root.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/jws.h"
#include "incoming/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ulak;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)crypto::ParseJwsHeader(input);  // the header reader on raw JSON, too
  if (auto der = crypto::EcdsaRawToDer(input)) {
    if (crypto::EcdsaDerToRaw(*der) != std::string(input)) __builtin_trap();  // round trip
  }
  (void)crypto::EcdsaDerToRaw(input);

  auto jws = crypto::ParseCompactJws(input);
  if (jws.ok()) (void)crypto::ParseJwsHeader(jws->header_json);

  static const incoming::SourceOptions kOptions = [] {
    auto parsed = incoming::ParseSourceOptions(incoming::Provider::kApple,
                                               boost::json::object{{"bundle_id", "com.x"}});
    if (!parsed.ok()) __builtin_trap();
    return std::move(parsed).value();
  }();
  boost::json::object body;
  body["signedPayload"] = input;
  const std::string body_text = boost::json::serialize(body);
  const incoming::Headers headers;
  const std::vector<std::string> secrets;
  const auto result =
      incoming::Verify(incoming::Provider::kApple,
                       incoming::VerifyInput{body_text, headers, secrets, kOptions,
                                             TimePoint(std::chrono::seconds(1'700'000'000))});
  if (result.ok()) __builtin_trap();  // nothing but Apple's own key can sign for this root
  return 0;
}
