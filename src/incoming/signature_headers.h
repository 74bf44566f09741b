// Parsers for the signature headers senders use. Internal to src/incoming (verifier.h is the
// public surface); exposed in a header of their own so unit tests and the libFuzzer targets
// (tests/fuzz) can reach them. Every function is total: any byte string in, a value or
// nullopt out, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "incoming/verifier.h"

namespace ulak::incoming {

// "Stripe-Signature: t=1700000000,v1=<hex>[,v1=<hex>][,v0=...]".
struct StripeSignature {
  int64_t timestamp = 0;
  std::vector<std::string> v1;  // decoded MAC bytes; v1 values that are not hex are dropped
};
// nullopt when an item is not "key=value", "t" is missing, repeated or not a unix time.
// Schemes other than v1 (v0, …) are ignored, as Stripe's libraries do.
std::optional<StripeSignature> ParseStripeSignature(std::string_view header);

// "webhook-signature: v1,<base64> v1,<base64> v1a,<...>": the decoded bytes of each v1
// entry, in order. Other versions and undecodable entries are skipped.
std::vector<std::string> ParseStandardSignatures(std::string_view header);

// Unix seconds as sent in t= and webhook-timestamp: 1 to 18 ASCII digits, nothing else.
std::optional<int64_t> ParseUnixSeconds(std::string_view text);

// A generic HMAC header value: surrounding whitespace trimmed, `prefix` (when not empty)
// required and stripped, the rest decoded as `encoding`. nullopt when any step fails or
// nothing is left.
std::optional<std::string> ParseHmacSignature(std::string_view header, std::string_view prefix,
                                              SourceOptions::Encoding encoding);

// Strips HTTP optional whitespace (spaces and tabs) from both ends.
std::string_view TrimOws(std::string_view text);

}  // namespace ulak::incoming
