// CRM templates (issue 12): pure functions from (event, params) to the request a CRM
// expects, e.g. Salesforce's sObject create or HubSpot's batch upsert.
//
// A template never sends anything, never reads a clock and never sees a credential's value:
// it says where the credential goes (credential_header, credential_prefix) and the delivery
// engine fills it in (src/delivery/oauth_tokens.h obtains OAuth tokens). The library is fixed
// at build time: salesforce, hubspot, zoho, n8n and custom (ulak's own payload).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"

namespace ulak::shape {

enum class ParamType { kString, kBoolean, kStringMap };
std::string_view ParamTypeName(ParamType type);  // "string", "boolean", "object"

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  bool required = false;
  boost::json::value default_value;  // null: none
  std::string description;
  bool secret = false;  // a credential given among the params (n8n's secret): kept with the auth
};

struct TemplateSpec {
  std::string name;
  std::string description;
  std::string default_url;        // used when the webhook names no url; empty: url required
  std::string default_token_url;  // OAuth 2.0 token endpoint; empty: the template takes no OAuth
  std::vector<ParamSpec> params;
  bool takes_auth = false;        // accepts `auth` ({access_token} or the refresh-token set)
};

// The library, in a fixed order; FindTemplate returns null for an unknown name.
const std::vector<TemplateSpec>& TemplateLibrary();
const TemplateSpec* FindTemplate(std::string_view name);

// A template chosen by a webhook, its params validated and their defaults filled in.
struct TemplateConfig {
  std::string name;
  boost::json::object params;  // every declared param but the secret ones, defaults included
};

// Validates a webhook's "template" object ({"name", "params"}; "auth" is read by
// ParseTemplateAuth). Errors are kInvalidArgument naming the field, e.g.
// "template.params.status_map". Secret params are accepted and left out of the result.
Result<TemplateConfig> ParseTemplate(const boost::json::value& v);
// The stored form: {"name", "params"} with the params as given (no defaults, no secrets), so
// later default changes apply to existing webhooks.
std::string TemplateToJson(const boost::json::object& template_field);

// Credentials of a template. Kinds as shown by GET /api/webhooks/{id}: "access_token",
// "oauth2" (refresh-token grant), "secret" (n8n's header secret).
struct TemplateAuth {
  enum class Kind { kNone, kAccessToken, kOAuth2, kSecret };
  Kind kind = Kind::kNone;
  std::string access_token;
  std::string refresh_token;
  std::string client_id;
  std::string client_secret;
  std::string token_url;  // as given; empty: the template's default_token_url
  std::string secret;
};
std::string_view AuthKindName(TemplateAuth::Kind kind);

// Reads the credentials of a "template" object: its "auth" and its secret params. Errors
// name the field ("template.auth.client_secret"). Kind kNone when there are none.
Result<TemplateAuth> ParseTemplateAuth(const TemplateSpec& spec, const boost::json::object& template_field);
// Stored form (sealed at rest by EncryptingStore), and back. Empty string for kNone.
std::string TemplateAuthToJson(const TemplateAuth& auth);
Result<TemplateAuth> TemplateAuthFromJson(std::string_view json);

// What a template renders for one event.
struct TemplateRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the credential
  boost::json::value body;
  // Where the credential goes: `credential_header: credential_prefix + value`; empty header:
  // the request carries none.
  std::string credential_header;
  std::string credential_prefix;
};

// REQUIRES: `config` came from ParseTemplate (or TemplateConfigFromJson). `payload` is ulak's
// payload {event, timestamp, organization_id, data, metadata}; `base_url` the webhook's url
// (the CRM's API base). Fails (kInvalidArgument) when the event lacks what the request needs,
// e.g. an upsert without an order number.
Result<TemplateRequest> RenderTemplate(const TemplateConfig& config, std::string_view base_url,
                                       const boost::json::object& payload);

// Parses the stored form back (TemplateToJson), filling the defaults. Empty json: no template.
Result<TemplateConfig> TemplateConfigFromJson(std::string_view json);

// Seed 001's example order (its "Webhook Payload Formatı" section): the event previews and
// GET /api/templates render when none is given.
boost::json::object SeedExampleOrderEvent();

}  // namespace ulak::shape
