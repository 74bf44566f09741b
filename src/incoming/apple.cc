// App Store Server Notifications V2: body {"signedPayload": "<JWS>"}, verified the way
// Apple's app-store-server-library does (shared/VECTORS.md): ES256, an x5c chain of three to
// a configured root with Apple's marker OIDs, validity at the payload's signedDate; then the
// app identity against the source's options, and the nested signed transaction and renewal
// info, verified the same way and decoded into data.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "crypto/jws.h"
#include "crypto/x509.h"
#include "incoming/providers.h"

namespace ulak::incoming::internal {
namespace {

constexpr std::string_view kLeafOid = "1.2.840.113635.100.6.11.1";
constexpr std::string_view kIntermediateOid = "1.2.840.113635.100.6.2.1";

Result<crypto::X5cPolicy> PolicyFor(const SourceOptions& options) {
  crypto::X5cPolicy policy;
  policy.chain_length = 3;
  policy.leaf_oids = {std::string(kLeafOid)};
  policy.intermediate_oids = {std::string(kIntermediateOid)};
  for (const std::string& pem : options.root_certificates_pem) {
    auto root = crypto::Certificate::FromPem(pem);
    // ParseSourceOptions refuses such options; reaching this is a configuration bug.
    if (!root.ok()) return Internal("options.root_certificates holds an unreadable certificate");
    policy.roots.push_back(std::move(root).value());
  }
  if (policy.roots.empty()) return Internal("no trusted root configured");
  return policy;
}

// Verifies one JWS signed by the App Store and returns its payload object. `what` names it
// in error messages ("signedPayload", "signedTransactionInfo", ...).
Result<boost::json::object> VerifyAppStoreJws(std::string_view compact,
                                              const crypto::X5cPolicy& policy, TimePoint now,
                                              std::string_view what) {
  const std::string name(what);
  auto jws = crypto::ParseCompactJws(compact);
  if (!jws.ok()) return Unauthenticated(name + " is not a compact JWS");
  auto header = crypto::ParseJwsHeader(jws->header_json);
  if (!header.ok()) return Unauthenticated(name + " has an unreadable JWS header");

  // The payload is read before its signature is checked only to learn signedDate, the time
  // at which the chain must be valid; nothing else from it is used until it verifies.
  boost::system::error_code ec;
  boost::json::parse_options parse_options;
  parse_options.max_depth = 64;
  boost::json::value payload = boost::json::parse(jws->payload, ec, {}, parse_options);
  if (ec || !payload.is_object()) return Unauthenticated(name + " payload is not a JSON object");
  TimePoint at = now;
  if (payload.get_object().contains("signedDate")) {
    const auto signed_date_ms = IntegerField(payload.get_object(), "signedDate");
    // ±10^14 ms is about ±3000 years: beyond that it cannot be a date, and the conversion
    // to TimePoint (nanoseconds) would overflow.
    if (!signed_date_ms || *signed_date_ms < -100'000'000'000'000 ||
        *signed_date_ms > 100'000'000'000'000) {
      return Unauthenticated(name + " signedDate is not a time");
    }
    at = FromUnixMillis(*signed_date_ms);
  }

  Status verified = crypto::VerifyEs256X5c(*jws, *header, policy, at);
  if (!verified.ok()) return Unauthenticated(name + ": " + verified.message());
  return std::move(payload.get_object());
}

// Replaces data[signed_key] (a JWS, when present) by its verified payload under
// data[decoded_key], keeping the signed string as received.
Status DecodeNested(boost::json::object& data, std::string_view signed_key,
                    std::string_view decoded_key, const crypto::X5cPolicy& policy,
                    const SourceOptions& options, std::string_view environment, TimePoint now) {
  const boost::json::value* signed_value = data.if_contains(signed_key);
  if (signed_value == nullptr) return Status::Ok();
  if (!signed_value->is_string())
    return Malformed("data." + std::string(signed_key) + " is not a string");
  ULAK_ASSIGN_OR_RETURN(boost::json::object decoded,
                        VerifyAppStoreJws(signed_value->get_string(), policy, now, signed_key));
  // A transaction of another app or environment must not ride inside this notification.
  if (const auto bundle = StringField(decoded, "bundleId");
      bundle && *bundle != options.bundle_id) {
    return Unauthenticated(std::string(signed_key) + " bundleId does not match the source");
  }
  if (const auto env = StringField(decoded, "environment"); env && *env != environment) {
    return Unauthenticated(std::string(signed_key) +
                           " environment does not match the notification");
  }
  data[decoded_key] = std::move(decoded);
  return Status::Ok();
}

}  // namespace

Result<VerifiedEvent> VerifyApple(const VerifyInput& input) {
  const SourceOptions& options = input.options;
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseBodyObject(input.body));
  const auto signed_payload = StringField(body, "signedPayload");
  if (!signed_payload) return Malformed("body has no string \"signedPayload\"");
  ULAK_ASSIGN_OR_RETURN(crypto::X5cPolicy policy, PolicyFor(options));
  ULAK_ASSIGN_OR_RETURN(boost::json::object notification,
                        VerifyAppStoreJws(*signed_payload, policy, input.now, "signedPayload"));

  // Apple's library takes the app identity from data, else summary (renewal-extension
  // summaries), else externalPurchaseToken.
  std::optional<std::string> bundle_id;
  std::optional<std::string> environment;
  std::optional<int64_t> app_apple_id;
  for (const std::string_view section : {"data", "summary", "externalPurchaseToken"}) {
    const boost::json::value* value = notification.if_contains(section);
    if (value == nullptr) continue;
    if (!value->is_object())
      return Malformed("notification " + std::string(section) + " is not an object");
    const boost::json::object& object = value->get_object();
    if (const auto b = StringField(object, "bundleId")) bundle_id = std::string(*b);
    app_apple_id = IntegerField(object, "appAppleId");
    if (section == "externalPurchaseToken") {
      // External purchase tokens carry no environment field; Apple marks sandbox ones by
      // the id's prefix.
      const auto token_id = StringField(object, "externalPurchaseId");
      environment = token_id && token_id->rfind("SANDBOX", 0) == 0 ? "Sandbox" : "Production";
    } else if (const auto e = StringField(object, "environment")) {
      environment = std::string(*e);
    }
    break;
  }
  if (!bundle_id || *bundle_id != options.bundle_id) {
    return Unauthenticated("bundleId does not match the source");
  }
  if (!options.environment.empty() && environment != options.environment) {
    return Unauthenticated("environment does not match the source");
  }
  const bool production = options.environment.empty() ? environment == "Production"
                                                      : options.environment == "Production";
  if (options.app_apple_id && production && app_apple_id != options.app_apple_id) {
    return Unauthenticated("appAppleId does not match the source");
  }

  const auto uuid = StringField(notification, "notificationUUID");
  if (!uuid || uuid->empty()) return Malformed("notification has no notificationUUID");
  const auto type = StringField(notification, "notificationType");
  if (!type || type->empty()) return Malformed("notification has no notificationType");
  VerifiedEvent event;
  event.provider_event_id = std::string(*uuid);
  event.event_type = std::string(*type);
  if (const auto subtype = StringField(notification, "subtype"); subtype && !subtype->empty()) {
    event.event_type += '.';
    event.event_type += *subtype;
  }

  if (boost::json::value* data = notification.if_contains("data"); data != nullptr) {
    boost::json::object& data_object = data->get_object();
    const std::string env = environment.value_or("");
    ULAK_RETURN_IF_ERROR(DecodeNested(data_object, "signedTransactionInfo", "transactionInfo",
                                      policy, options, env, input.now));
    ULAK_RETURN_IF_ERROR(DecodeNested(data_object, "signedRenewalInfo", "renewalInfo", policy,
                                      options, env, input.now));
  }
  event.data = std::move(notification);
  return event;
}

}  // namespace ulak::incoming::internal
