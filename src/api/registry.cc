#include "api/registry.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <variant>

#include <boost/json/array.hpp>

#include "api/handler.h"
#include "api/json_io.h"
#include "shape/json_number.h"

namespace ulak::api {
namespace {

std::vector<std::string> Strings(const boost::json::value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

// What a source listens for: the provider types its event_map matches, or everything.
std::vector<std::string> SourceEvents(const store::Source& s) {
  std::vector<std::string> out;
  const boost::json::value map = ParseJsonOr(s.event_map_json, boost::json::array());
  if (map.is_array()) {
    for (const auto& rule : map.as_array()) {
      if (rule.is_object()) {
        if (const auto* m = rule.as_object().if_contains("match"); m != nullptr && m->is_string()) {
          out.emplace_back(m->as_string());
        }
      }
    }
  }
  if (out.empty()) out.emplace_back("*");
  return out;
}

// JSON as YAML (block style), numbers written as the API writes them.
void EmitJson(YAML::Emitter& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out << YAML::Null; return;
    case boost::json::kind::bool_: out << v.get_bool(); return;
    case boost::json::kind::string: out << YAML::DoubleQuoted << std::string(v.get_string()); return;
    case boost::json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& e : v.get_array()) EmitJson(out, e);
      out << YAML::EndSeq;
      return;
    case boost::json::kind::object:
      out << YAML::BeginMap;
      for (const auto& [k, e] : v.get_object()) {
        out << YAML::Key << YAML::DoubleQuoted << std::string(k) << YAML::Value;
        EmitJson(out, e);
      }
      out << YAML::EndMap;
      return;
    default: out << shape::SerializeJson(v); return;  // a number
  }
}

// A webhook's shaping (SPEC §7), when it has any.
void EmitShaping(YAML::Emitter& out, const store::Webhook& w) {
  if (!w.filter_json.empty()) {
    out << YAML::Key << "filter" << YAML::Value;
    EmitJson(out, ParseJsonOr(w.filter_json, nullptr));
  }
  if (!w.fields_json.empty()) {
    out << YAML::Key << "fields" << YAML::Value << YAML::Flow;
    EmitJson(out, ParseJsonOr(w.fields_json, nullptr));
  }
  if (!w.transform_lua.empty()) {
    out << YAML::Key << "transform" << YAML::Value << YAML::BeginMap << YAML::Key << "lua" << YAML::Value
        << YAML::Literal << w.transform_lua << YAML::EndMap;
  }
}

void EmitDocument(YAML::Emitter& out, int number, std::string_view tip, const std::string& endpoint,
                  const std::string& provider, const std::vector<std::string>& events, bool active,
                  const store::Webhook* webhook = nullptr) {
  char id[16];
  std::snprintf(id, sizeof id, "WH-%03d", number);
  out << YAML::BeginDoc << YAML::BeginMap << YAML::Key << "webhook_config" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << YAML::DoubleQuoted << id;
  out << YAML::Key << "tip" << YAML::Value << std::string(tip);
  out << YAML::Key << "endpoint" << YAML::Value << YAML::DoubleQuoted << endpoint;
  out << YAML::Key << "provider" << YAML::Value << YAML::DoubleQuoted << provider;
  out << YAML::Key << "events" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& e : events) out << YAML::DoubleQuoted << e;
  out << YAML::EndSeq;
  out << YAML::Key << "durum" << YAML::Value << (active ? "active" : "inactive");
  if (webhook != nullptr) EmitShaping(out, *webhook);
  if (webhook != nullptr && webhook->ordered) {
    out << YAML::Key << "ordered" << YAML::Value << true;  // FIFO delivery; shown only when set
  }
  out << YAML::EndMap << YAML::EndMap;
}

}  // namespace

Result<std::string> RenderRegistryYaml(store::Store& store, std::string_view organization_id,
                                       std::string_view public_base_url) {
  ULAK_ASSIGN_OR_RETURN(std::vector<store::Source> sources, store.ListAllSources(organization_id));
  ULAK_ASSIGN_OR_RETURN(std::vector<store::Webhook> webhooks, store.ListAllWebhooks(organization_id));
  // Ids are UUIDv7, so sorting by id is sorting by creation time across both kinds.
  using Entry = std::variant<const store::Source*, const store::Webhook*>;
  std::vector<std::pair<std::string, Entry>> entries;
  for (const auto& s : sources) entries.emplace_back(s.id, &s);
  for (const auto& w : webhooks) entries.emplace_back(w.id, &w);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  YAML::Emitter out;
  int number = 0;
  for (const auto& [id, entry] : entries) {
    ++number;
    if (const auto* s = std::get_if<const store::Source*>(&entry)) {
      EmitDocument(out, number, "incoming", std::string(public_base_url) + "/api/incoming/" + (*s)->id,
                   (*s)->provider, SourceEvents(**s), (*s)->is_active);
    } else {
      const store::Webhook* w = std::get<const store::Webhook*>(entry);
      EmitDocument(out, number, "outgoing", w->url, w->name,
                   Strings(ParseJsonOr(w->events_json, boost::json::array())), w->is_active, w);
    }
  }
  std::string text = out.c_str();
  if (!text.empty()) text += "\n";
  return text;
}

void AddRegistryRoutes(ApiContext& ctx, http::Router& router) {
  router.Add(http::Method::kGet, "/api/registry",
             WithAuth(ctx, [&ctx](const http::Request& req, const auto&, const Principal& who) -> Result<http::Response> {
               std::string org;
               if (!who.is_admin || req.GetQuery("organization_id")) {
                 ULAK_ASSIGN_OR_RETURN(org, ResolveOrganization(who, req.GetQuery("organization_id"),
                                                                "organization_id", ctx.store));
               }
               ULAK_ASSIGN_OR_RETURN(std::string yaml, RenderRegistryYaml(ctx.store, org));
               http::Response r;
               r.content_type = "application/yaml";
               r.body = std::move(yaml);
               return r;
             }));
}

}  // namespace ulak::api
