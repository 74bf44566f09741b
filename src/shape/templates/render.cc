// Rendering: one function per CRM, each a pure function of (payload, params).
#include <cstdio>

#include <boost/json/array.hpp>
#include "shape/json_number.h"
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "shape/templates/template.h"

namespace ulak::shape {
namespace {

// The order fields every CRM template maps, read through params.field_map.
struct Order {
  const boost::json::value* order_number = nullptr;
  const boost::json::value* total_amount = nullptr;
  const boost::json::value* status = nullptr;
  const boost::json::value* customer_name = nullptr;
};

const boost::json::object& Params(const TemplateConfig& c) { return c.params; }

std::string StringParam(const TemplateConfig& c, std::string_view name) {
  const boost::json::value* v = Params(c).if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool BoolParam(const TemplateConfig& c, std::string_view name) {
  const boost::json::value* v = Params(c).if_contains(name);
  return v != nullptr && v->is_bool() && v->as_bool();
}

// A dot path inside `data` ("customer.name", "items.0.name"); null when absent.
const boost::json::value* Lookup(const boost::json::value& data, std::string_view path) {
  const boost::json::value* at = &data;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view segment = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (at->is_object()) {
      at = at->as_object().if_contains(segment);
    } else if (at->is_array()) {
      size_t index = 0;
      if (segment.empty() || segment.size() > 9) return nullptr;
      for (char ch : segment) {
        if (ch < '0' || ch > '9') return nullptr;
        index = index * 10 + static_cast<size_t>(ch - '0');
      }
      at = index < at->as_array().size() ? &at->as_array()[index] : nullptr;
    } else {
      return nullptr;
    }
    if (at == nullptr) return nullptr;
  }
  return at->is_null() ? nullptr : at;
}

Order ReadOrder(const TemplateConfig& c, const boost::json::object& payload) {
  static const boost::json::value kNull;
  const boost::json::value* data = payload.if_contains("data");
  if (data == nullptr) data = &kNull;
  const boost::json::value* map = Params(c).if_contains("field_map");
  auto path = [map](const char* target) -> std::string_view {
    if (map != nullptr && map->is_object()) {
      if (const auto* p = map->as_object().if_contains(target); p != nullptr && p->is_string()) {
        return std::string_view(p->as_string());
      }
    }
    return target;
  };
  Order o;
  o.order_number = Lookup(*data, path("order_number"));
  o.total_amount = Lookup(*data, path("total_amount"));
  o.status = Lookup(*data, path("status"));
  o.customer_name = Lookup(*data, path("customer_name"));
  return o;
}

// An order number as text: strings as they are, numbers in JSON form.
std::string AsText(const boost::json::value* v) {
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  return shape::SerializeJson(*v);
}

// Through a status map: the mapped value, else `fallback` (null fallback: the status itself).
boost::json::value Mapped(const TemplateConfig& c, const char* map_name, const boost::json::value* status,
                          const boost::json::value* fallback) {
  if (status != nullptr && status->is_string()) {
    const boost::json::value* map = Params(c).if_contains(map_name);
    if (map != nullptr && map->is_object()) {
      if (const auto* m = map->as_object().if_contains(status->as_string()); m != nullptr) return *m;
    }
  }
  if (fallback != nullptr) return *fallback;
  return status != nullptr ? *status : boost::json::value(nullptr);
}

// HubSpot's amount: a string with two decimals, as in seed 001 ("179.80").
boost::json::value TwoDecimals(const boost::json::value& v) {
  if (!v.is_number()) return v;
  boost::system::error_code ec;
  const double d = v.to_number<double>(ec);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", d);
  return boost::json::value(buf);
}

std::string Join(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + std::string(path);
}

Status MissingExternalId() {
  return InvalidArgument("The event has no order number (data.order_number, or params.field_map.order_number): an "
                         "upsert needs it as the external id.")
      .WithField("data.order_number");
}

Result<TemplateRequest> Salesforce(const TemplateConfig& c, std::string_view base, const boost::json::object& payload) {
  const Order o = ReadOrder(c, payload);
  boost::json::object body;
  if (o.order_number != nullptr) body["Name"] = *o.order_number;
  if (o.total_amount != nullptr) body["Amount__c"] = *o.total_amount;
  if (o.status != nullptr) body["Status__c"] = Mapped(c, "status_map", o.status, nullptr);
  if (o.customer_name != nullptr) body["Customer_Name__c"] = *o.customer_name;
  TemplateRequest r;
  const std::string objects = "/services/data/" + StringParam(c, "api_version") + "/sobjects/" + StringParam(c, "sobject");
  if (BoolParam(c, "upsert")) {
    const std::string id = AsText(o.order_number);
    if (id.empty()) return MissingExternalId();
    const std::string field = StringParam(c, "external_id_field");
    body.erase(field);  // Salesforce refuses the external id in the body of an upsert by it
    r.method = "PATCH";
    r.url = Join(base, objects + "/" + field + "/" + boost::urls::encode(id, boost::urls::unreserved_chars));
  } else {
    r.url = Join(base, objects + "/");
  }
  r.body = std::move(body);
  r.credential_header = "Authorization";
  r.credential_prefix = "Bearer ";
  return r;
}

Result<TemplateRequest> HubSpot(const TemplateConfig& c, std::string_view base, const boost::json::object& payload) {
  const Order o = ReadOrder(c, payload);
  boost::json::object properties;
  if (o.order_number != nullptr) properties["dealname"] = *o.order_number;
  if (o.total_amount != nullptr) properties["amount"] = TwoDecimals(*o.total_amount);
  const boost::json::value fallback(StringParam(c, "default_stage"));
  properties["dealstage"] = Mapped(c, "stage_map", o.status, &fallback);
  TemplateRequest r;
  if (BoolParam(c, "upsert")) {
    const std::string id = AsText(o.order_number);
    if (id.empty()) return MissingExternalId();
    r.url = Join(base, "/crm/v3/objects/deals/batch/upsert");
    boost::json::object input{{"idProperty", StringParam(c, "external_id_field")}, {"id", id},
                              {"properties", std::move(properties)}};
    r.body = boost::json::object{{"inputs", boost::json::array{std::move(input)}}};
  } else {
    r.url = Join(base, "/crm/v3/objects/deals");
    r.body = boost::json::object{{"properties", std::move(properties)}};
  }
  r.credential_header = "Authorization";
  r.credential_prefix = "Bearer ";
  return r;
}

Result<TemplateRequest> Zoho(const TemplateConfig& c, std::string_view base, const boost::json::object& payload) {
  const Order o = ReadOrder(c, payload);
  boost::json::object deal;
  if (o.order_number != nullptr) deal["Deal_Name"] = *o.order_number;
  if (o.total_amount != nullptr) deal["Amount"] = *o.total_amount;
  const boost::json::value fallback(StringParam(c, "default_stage"));
  deal["Stage"] = Mapped(c, "stage_map", o.status, &fallback);
  TemplateRequest r;
  if (BoolParam(c, "upsert")) {
    if (AsText(o.order_number).empty()) return MissingExternalId();
    r.url = Join(base, "/crm/v3/Deals/upsert");
    r.body = boost::json::object{{"data", boost::json::array{std::move(deal)}},
                                 {"duplicate_check_fields", boost::json::array{StringParam(c, "external_id_field")}}};
  } else {
    r.url = Join(base, "/crm/v3/Deals");
    r.body = boost::json::object{{"data", boost::json::array{std::move(deal)}}};
  }
  r.credential_header = "Authorization";
  r.credential_prefix = "Zoho-oauthtoken ";
  return r;
}

// Seed 000's body: {event, timestamp, data}.
TemplateRequest N8n(std::string_view base, const boost::json::object& payload) {
  TemplateRequest r;
  r.url = std::string(base);
  boost::json::object body;
  for (const char* key : {"event", "timestamp", "data"}) {
    if (const auto* v = payload.if_contains(key)) body[key] = *v;
  }
  r.body = std::move(body);
  r.credential_header = "X-Webhook-Secret";
  return r;
}

}  // namespace

Result<TemplateRequest> RenderTemplate(const TemplateConfig& config, std::string_view base_url,
                                       const boost::json::object& payload) {
  if (config.name == "salesforce") return Salesforce(config, base_url, payload);
  if (config.name == "hubspot") return HubSpot(config, base_url, payload);
  if (config.name == "zoho") return Zoho(config, base_url, payload);
  if (config.name == "n8n") return N8n(base_url, payload);
  TemplateRequest r;  // custom: ulak's payload as it is
  r.url = std::string(base_url);
  r.body = payload;
  return r;
}

}  // namespace ulak::shape
