// Internal to src/incoming: one Verify function per provider (verifier.cc dispatches) and
// the helpers they share. Not for use outside this folder; verifier.h is the public surface.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "incoming/verifier.h"

namespace ulak::incoming::internal {

Result<VerifiedEvent> VerifyStripe(const VerifyInput& input);
Result<VerifiedEvent> VerifyApple(const VerifyInput& input);
Result<VerifiedEvent> VerifyGithub(const VerifyInput& input);
Result<VerifiedEvent> VerifyShopify(const VerifyInput& input);
Result<VerifiedEvent> VerifyStandard(const VerifyInput& input);
Result<VerifiedEvent> VerifyHmac(const VerifyInput& input);
Result<VerifiedEvent> VerifyHeader(const VerifyInput& input);

// The body as a JSON object; kMalformed "body is not a JSON object" otherwise.
Result<boost::json::object> ParseBodyObject(std::string_view body);
// object[key] when it is a string.
std::optional<std::string_view> StringField(const boost::json::object& object,
                                            std::string_view key);
// object[key] when it is an integral number (JSON numbers may arrive as int64, uint64 or
// an integral double).
std::optional<int64_t> IntegerField(const boost::json::object& object, std::string_view key);

int64_t UnixSeconds(TimePoint t);
// |timestamp - now| <= tolerance, without overflow for any input.
bool WithinTolerance(int64_t timestamp_s, TimePoint now, int64_t tolerance_s);

// True when any candidate equals any expected MAC. Every pair is compared in constant
// time and the loop does not stop at a match, so timing says nothing about which matched.
bool AnyMacMatches(const std::vector<std::string>& expected,
                   const std::vector<std::string>& candidates);
// MACs of `message` under each secret used as raw key bytes.
std::vector<std::string> MacsForSecrets(crypto::HashAlgorithm algorithm,
                                        const std::vector<std::string>& secrets,
                                        std::string_view message);

// id/type of the generic senders (hmac, header): the configured headers when present,
// else the body's SHA-256 (id) and "type"/"event" field (type), else "webhook".
VerifiedEvent GenericEvent(const VerifyInput& input, boost::json::object body);

}  // namespace ulak::incoming::internal
