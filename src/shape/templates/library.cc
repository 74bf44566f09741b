// The template library and the validation of a webhook's "template" input.
#include <boost/json/parse.hpp>
#include "shape/json_number.h"
#include <boost/url/parse.hpp>

#include "shape/templates/template.h"

namespace ulak::shape {
namespace {

constexpr size_t kMaxStringParam = 1024;
constexpr size_t kMaxMapEntries = 100;
constexpr size_t kMaxCredential = 8192;

Status Invalid(const std::string& field, std::string message) {
  return InvalidArgument(std::move(message)).WithField(field);
}

ParamSpec Param(std::string name, ParamType type, boost::json::value def, std::string description) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.default_value = std::move(def);
  p.description = std::move(description);
  return p;
}

ParamSpec FieldMap() {
  return Param("field_map", ParamType::kStringMap, boost::json::object(),
               "Which data paths feed the target fields order_number, total_amount, status and customer_name "
               "(dot paths inside data, e.g. {\"customer_name\": \"customer.full_name\"}). Default: the fields "
               "of seed 001's order.");
}

ParamSpec Upsert() {
  return Param("upsert", ParamType::kBoolean, false,
               "Create-or-update by external id, so a retry, a replay or an order update never makes a second "
               "record.");
}

std::vector<TemplateSpec> BuildLibrary() {
  std::vector<TemplateSpec> lib;
  {
    TemplateSpec t;
    t.name = "salesforce";
    t.description = "Creates (or upserts) a Salesforce sObject record per event: POST "
                    "{url}/services/data/{api_version}/sobjects/{sobject}/ with a Bearer token. The webhook's url "
                    "is the org's instance URL.";
    t.default_token_url = "https://login.salesforce.com/services/oauth2/token";
    t.takes_auth = true;
    t.params = {Param("api_version", ParamType::kString, "v58.0", "REST API version."),
                Param("sobject", ParamType::kString, "Order__c", "sObject API name."),
                Param("status_map", ParamType::kStringMap, boost::json::object(),
                      "Order status to Status__c value; an unmapped status is sent as it is."),
                FieldMap(), Upsert(),
                Param("external_id_field", ParamType::kString, "Order_Number__c",
                      "External id field the upsert matches on (PATCH .../{external_id_field}/{order_number}).")};
    lib.push_back(std::move(t));
  }
  {
    TemplateSpec t;
    t.name = "hubspot";
    t.description = "Creates (or upserts) a HubSpot deal per event: POST {url}/crm/v3/objects/deals with a Bearer "
                    "token.";
    t.default_url = "https://api.hubapi.com";
    t.default_token_url = "https://api.hubapi.com/oauth/v1/token";
    t.takes_auth = true;
    t.params = {Param("stage_map", ParamType::kStringMap, boost::json::object(), "Order status to deal stage."),
                Param("default_stage", ParamType::kString, "appointmentscheduled",
                      "Deal stage for a status stage_map does not name."),
                FieldMap(), Upsert(),
                Param("external_id_field", ParamType::kString, "order_number",
                      "Unique deal property the batch upsert matches on (idProperty).")};
    lib.push_back(std::move(t));
  }
  {
    TemplateSpec t;
    t.name = "zoho";
    t.description = "Creates (or upserts) a Zoho CRM deal per event: POST {url}/crm/v3/Deals with a "
                    "Zoho-oauthtoken. Set url for another data centre, e.g. https://www.zohoapis.eu.";
    t.default_url = "https://www.zohoapis.com";
    t.default_token_url = "https://accounts.zoho.com/oauth/v2/token";
    t.takes_auth = true;
    t.params = {Param("stage_map", ParamType::kStringMap, boost::json::object(), "Order status to deal Stage."),
                Param("default_stage", ParamType::kString, "Qualification",
                      "Stage for a status stage_map does not name."),
                FieldMap(), Upsert(),
                Param("external_id_field", ParamType::kString, "Deal_Name",
                      "Field Zoho's upsert checks for duplicates (duplicate_check_fields).")};
    lib.push_back(std::move(t));
  }
  {
    TemplateSpec t;
    t.name = "n8n";
    t.description = "Posts seed 000's body {event, timestamp, data} to an n8n Webhook node (the webhook's url) with "
                    "X-Webhook-Secret for its Header Auth.";
    ParamSpec secret = Param("secret", ParamType::kString, nullptr,
                             "Value of X-Webhook-Secret (the n8n Header Auth credential); stored encrypted, never "
                             "shown again.");
    secret.secret = true;
    t.params = {std::move(secret)};
    lib.push_back(std::move(t));
  }
  {
    TemplateSpec t;
    t.name = "custom";
    t.description = "ulak's own payload, signed, to the webhook's url (the default without a template).";
    lib.push_back(std::move(t));
  }
  return lib;
}

const ParamSpec* FindParam(const TemplateSpec& spec, std::string_view name) {
  for (const ParamSpec& p : spec.params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsApiVersion(std::string_view s) {  // "v58.0"
  if (s.size() < 2 || s.size() > 10 || s[0] != 'v') return false;
  for (char c : s.substr(1)) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

constexpr const char* kTargetFields[] = {"order_number", "total_amount", "status", "customer_name"};

Status CheckParam(const TemplateSpec& spec, const ParamSpec& p, const boost::json::value& v, const std::string& field) {
  switch (p.type) {
    case ParamType::kBoolean:
      if (!v.is_bool()) return Invalid(field, field + " must be a boolean.");
      return Status::Ok();
    case ParamType::kString: {
      if (!v.is_string() || v.as_string().empty() || v.as_string().size() > kMaxStringParam) {
        return Invalid(field, field + " must be a non-empty string of at most 1024 characters.");
      }
      const std::string_view s(v.as_string().data(), v.as_string().size());
      // These go into the request path: only names, so no one can smuggle a path or a query.
      if ((p.name == "sobject" || p.name == "external_id_field") && !IsIdentifier(s)) {
        return Invalid(field, field + " must be an API name: letters, digits and underscores.");
      }
      if (p.name == "api_version" && !IsApiVersion(s)) return Invalid(field, field + " must look like \"v58.0\".");
      if (p.secret && s.find_first_of("\r\n") != std::string_view::npos) {
        return Invalid(field, field + " must not contain CR or LF.");
      }
      return Status::Ok();
    }
    case ParamType::kStringMap: {
      if (!v.is_object()) return Invalid(field, field + " must be an object of strings.");
      if (v.as_object().size() > kMaxMapEntries) return Invalid(field, field + " may hold at most 100 entries.");
      for (const auto& [key, value] : v.as_object()) {
        if (!value.is_string() || value.as_string().size() > kMaxStringParam) {
          return Invalid(field, field + "." + std::string(key) + " must be a string.");
        }
        if (p.name == "field_map") {
          bool known = false;
          for (const char* t : kTargetFields) known = known || key == t;
          if (!known) {
            return Invalid(field, field + "." + std::string(key) +
                                      " is not a target field: use order_number, total_amount, status or "
                                      "customer_name.");
          }
          if (value.as_string().empty()) return Invalid(field, field + "." + std::string(key) + " must not be empty.");
        }
      }
      return Status::Ok();
    }
  }
  (void)spec;
  return Status::Ok();
}

// Validates the params object against the spec; fills defaults when `with_defaults`.
Result<boost::json::object> CheckParams(const TemplateSpec& spec, const boost::json::value* params,
                                        bool with_defaults) {
  if (params != nullptr && !params->is_null() && !params->is_object()) {
    return Invalid("template.params", "template.params must be an object.");
  }
  static const boost::json::object kEmpty;
  const boost::json::object& given = params != nullptr && params->is_object() ? params->as_object() : kEmpty;
  for (const auto& [key, value] : given) {
    const std::string field = "template.params." + std::string(key);
    const ParamSpec* p = FindParam(spec, key);
    if (p == nullptr) return Invalid(field, field + " is not a parameter of the " + spec.name + " template.");
    ULAK_RETURN_IF_ERROR(CheckParam(spec, *p, value, field));
  }
  boost::json::object out;
  for (const ParamSpec& p : spec.params) {
    const boost::json::value* v = given.if_contains(p.name);
    if (v == nullptr && p.required) {
      return Invalid("template.params." + p.name, "template.params." + p.name + " is required.");
    }
    if (p.secret) continue;
    if (v != nullptr) {
      out[p.name] = *v;
    } else if (with_defaults && !p.default_value.is_null()) {
      out[p.name] = p.default_value;
    }
  }
  return out;
}

Result<std::string> Credential(const boost::json::object& auth, std::string_view key, bool required) {
  const std::string field = "template.auth." + std::string(key);
  const boost::json::value* v = auth.if_contains(key);
  if (v == nullptr) {
    if (required) return Invalid(field, field + " is required.");
    return std::string();
  }
  if (!v->is_string() || v->as_string().empty() || v->as_string().size() > kMaxCredential ||
      std::string_view(v->as_string()).find_first_of("\r\n") != std::string_view::npos) {
    return Invalid(field, field + " must be a non-empty string without CR or LF.");
  }
  return std::string(v->as_string());
}

}  // namespace

std::string_view ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kString: return "string";
    case ParamType::kBoolean: return "boolean";
    case ParamType::kStringMap: return "object";
  }
  return "string";
}

std::string_view AuthKindName(TemplateAuth::Kind kind) {
  switch (kind) {
    case TemplateAuth::Kind::kNone: return "none";
    case TemplateAuth::Kind::kAccessToken: return "access_token";
    case TemplateAuth::Kind::kOAuth2: return "oauth2";
    case TemplateAuth::Kind::kSecret: return "secret";
  }
  return "none";
}

const std::vector<TemplateSpec>& TemplateLibrary() {
  static const std::vector<TemplateSpec> kLibrary = BuildLibrary();
  return kLibrary;
}

const TemplateSpec* FindTemplate(std::string_view name) {
  for (const TemplateSpec& t : TemplateLibrary()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<TemplateConfig> ParseTemplate(const boost::json::value& v) {
  if (!v.is_object()) return Invalid("template", "template must be an object with a name.");
  const boost::json::object& o = v.as_object();
  for (const auto& [key, value] : o) {
    if (key != "name" && key != "params" && key != "auth") {
      return Invalid("template." + std::string(key), "template." + std::string(key) +
                                                         " is not a field of template: use name, params and auth.");
    }
  }
  const boost::json::value* name = o.if_contains("name");
  if (name == nullptr || !name->is_string()) return Invalid("template.name", "template.name is required.");
  const TemplateSpec* spec = FindTemplate(std::string_view(name->as_string()));
  if (spec == nullptr) {
    return Invalid("template.name", "template.name must be one of salesforce, hubspot, zoho, n8n, custom.");
  }
  TemplateConfig config;
  config.name = spec->name;
  ULAK_ASSIGN_OR_RETURN(config.params, CheckParams(*spec, o.if_contains("params"), true));
  return config;
}

std::string TemplateToJson(const boost::json::object& template_field) {
  boost::json::object out;
  if (const auto* n = template_field.if_contains("name")) out["name"] = *n;
  const TemplateSpec* spec = out.contains("name") && out["name"].is_string()
                                 ? FindTemplate(std::string_view(out["name"].as_string()))
                                 : nullptr;
  boost::json::object params;
  if (const auto* p = template_field.if_contains("params"); p != nullptr && p->is_object()) {
    for (const auto& [key, value] : p->as_object()) {
      const ParamSpec* ps = spec != nullptr ? FindParam(*spec, key) : nullptr;
      if (ps != nullptr && ps->secret) continue;  // kept with the credentials, sealed
      params[key] = value;
    }
  }
  out["params"] = std::move(params);
  return shape::SerializeJson(out);
}

Result<TemplateConfig> TemplateConfigFromJson(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec) return Internal("stored template is not JSON");
  Result<TemplateConfig> config = ParseTemplate(v);
  if (!config.ok()) return Internal("stored template is invalid: " + config.status().message());
  return config;
}

Result<TemplateAuth> ParseTemplateAuth(const TemplateSpec& spec, const boost::json::object& template_field) {
  TemplateAuth auth;
  for (const ParamSpec& p : spec.params) {
    if (!p.secret) continue;
    if (const auto* v = template_field.if_contains("params"); v != nullptr && v->is_object()) {
      if (const auto* s = v->as_object().if_contains(p.name); s != nullptr && s->is_string()) {
        auth.kind = TemplateAuth::Kind::kSecret;
        auth.secret = std::string(s->as_string());
      }
    }
  }
  const boost::json::value* a = template_field.if_contains("auth");
  if (a == nullptr || a->is_null()) return auth;
  if (!spec.takes_auth) {
    return Invalid("template.auth", "template.auth is not taken by the " + spec.name + " template" +
                                        (spec.name == "n8n" ? " (give params.secret)." : "."));
  }
  if (!a->is_object()) return Invalid("template.auth", "template.auth must be an object.");
  const boost::json::object& o = a->as_object();
  for (const auto& [key, value] : o) {
    if (key != "access_token" && key != "refresh_token" && key != "client_id" && key != "client_secret" &&
        key != "token_url") {
      return Invalid("template.auth." + std::string(key),
                     "template.auth." + std::string(key) +
                         " is not taken: give access_token, or refresh_token, client_id, client_secret and "
                         "optionally token_url.");
    }
  }
  if (o.contains("access_token")) {
    if (o.size() > 1) {
      return Invalid("template.auth", "template.auth takes either access_token alone or the refresh-token set.");
    }
    auth.kind = TemplateAuth::Kind::kAccessToken;
    ULAK_ASSIGN_OR_RETURN(auth.access_token, Credential(o, "access_token", true));
    return auth;
  }
  auth.kind = TemplateAuth::Kind::kOAuth2;
  ULAK_ASSIGN_OR_RETURN(auth.refresh_token, Credential(o, "refresh_token", true));
  ULAK_ASSIGN_OR_RETURN(auth.client_id, Credential(o, "client_id", true));
  ULAK_ASSIGN_OR_RETURN(auth.client_secret, Credential(o, "client_secret", true));
  ULAK_ASSIGN_OR_RETURN(auth.token_url, Credential(o, "token_url", false));
  if (!auth.token_url.empty()) {
    auto parsed = boost::urls::parse_uri(auth.token_url);
    if (!parsed || (parsed->scheme() != "https" && parsed->scheme() != "http") || parsed->host().empty() ||
        parsed->has_userinfo()) {
      return Invalid("template.auth.token_url", "template.auth.token_url must be an absolute http(s) URL.");
    }
  }
  return auth;
}

std::string TemplateAuthToJson(const TemplateAuth& auth) {
  boost::json::object o;
  switch (auth.kind) {
    case TemplateAuth::Kind::kNone: return "";
    case TemplateAuth::Kind::kAccessToken: o["access_token"] = auth.access_token; break;
    case TemplateAuth::Kind::kSecret: o["secret"] = auth.secret; break;
    case TemplateAuth::Kind::kOAuth2:
      o["refresh_token"] = auth.refresh_token;
      o["client_id"] = auth.client_id;
      o["client_secret"] = auth.client_secret;
      if (!auth.token_url.empty()) o["token_url"] = auth.token_url;
      break;
  }
  return shape::SerializeJson(o);
}

Result<TemplateAuth> TemplateAuthFromJson(std::string_view json) {
  TemplateAuth auth;
  if (json.empty()) return auth;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return Internal("stored template credentials are not a JSON object");
  const boost::json::object& o = v.as_object();
  auto get = [&o](const char* key) {
    const boost::json::value* s = o.if_contains(key);
    return s != nullptr && s->is_string() ? std::string(s->as_string()) : std::string();
  };
  if (o.contains("access_token")) {
    auth.kind = TemplateAuth::Kind::kAccessToken;
    auth.access_token = get("access_token");
  } else if (o.contains("secret")) {
    auth.kind = TemplateAuth::Kind::kSecret;
    auth.secret = get("secret");
  } else if (o.contains("refresh_token")) {
    auth.kind = TemplateAuth::Kind::kOAuth2;
    auth.refresh_token = get("refresh_token");
    auth.client_id = get("client_id");
    auth.client_secret = get("client_secret");
    auth.token_url = get("token_url");
  }
  return auth;
}

boost::json::object SeedExampleOrderEvent() {
  static const boost::json::value kEvent = boost::json::parse(R"({
  "event": "order.created",
  "timestamp": "2024-01-02T10:30:00Z",
  "organization_id": "uuid",
  "data": {
    "id": "order-uuid",
    "order_number": "ORD-20240102-1234",
    "items": [
      {"menu_item_id": "uuid", "name": "Margherita Pizza", "quantity": 2, "price": 89.90, "notes": "Extra peynir"}
    ],
    "total_amount": 179.80,
    "status": "pending",
    "customer_name": "Ahmet Yılmaz",
    "customer_notes": "Acele etmeyin",
    "table_id": "uuid",
    "created_at": "2024-01-02T10:30:00Z"
  },
  "metadata": {"table_number": "12", "customer_name": "Ahmet Yılmaz", "items_count": 2}
})");
  return kEvent.as_object();
}

}  // namespace ulak::shape
