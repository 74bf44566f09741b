#include "api/sources.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "api/handler.h"
#include "api/json_io.h"
#include "api/pagination.h"
#include "api/source_cache.h"
#include "common/ids.h"
#include "incoming/event_map.h"
#include "incoming/verifier.h"
#include "shape/json_number.h"

namespace ulak::api {
namespace {

std::string ScopeOf(const Principal& principal) { return principal.is_admin ? "" : principal.organization_id; }

boost::json::object SourceJson(const store::Source& s) {
  const boost::json::value secrets = ParseJsonOr(s.secrets_json, boost::json::array());
  return {{"id", s.id},
          {"organization_id", s.organization_id},
          {"name", s.name},
          {"provider", s.provider},
          {"url", "/api/incoming/" + s.id},
          {"options", ParseJsonOr(s.options_json, boost::json::object())},
          {"event_map", ParseJsonOr(s.event_map_json, boost::json::array())},
          {"default_for_provider", s.default_for_provider},
          {"is_active", s.is_active},
          {"secrets_count", secrets.is_array() ? secrets.as_array().size() : 0},
          {"rejected_count", s.rejected_count},
          {"created_at", FormatRfc3339(s.created_at)},
          {"updated_at", FormatRfc3339(s.updated_at)}};
}

Result<std::vector<std::string>> ReadSecrets(const boost::json::value& v) {
  if (!v.is_array()) return InvalidArgument("secrets must be a list of strings.").WithField("secrets");
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) {
    if (!s.is_string() || s.as_string().empty() || s.as_string().size() > 4096) {
      return InvalidArgument("secrets must be a list of non-empty strings.").WithField("secrets");
    }
    out.emplace_back(s.as_string());
  }
  return out;
}

std::string SecretsJson(const std::vector<std::string>& secrets) {
  boost::json::array a;
  for (const auto& s : secrets) a.emplace_back(s);
  return shape::SerializeJson(a);
}

// Validates and applies the mutable fields present in `body` to `source`.
Status ApplySourceFields(const boost::json::object& body, bool creating, incoming::Provider provider,
                         store::Source& source) {
  store::Source next = source;
  if (creating || body.contains("name")) {
    ULAK_ASSIGN_OR_RETURN(next.name, RequireString(body, "name", 200));
    if (next.name.find_first_not_of(" \t\r\n") == std::string::npos) {
      return InvalidArgument("name must not be blank.").WithField("name");
    }
  }
  std::vector<std::string> secrets;
  if (const boost::json::value* v = body.if_contains("secrets"); v != nullptr) {
    ULAK_ASSIGN_OR_RETURN(secrets, ReadSecrets(*v));
  } else if (creating) {
    return InvalidArgument("secrets is required: the signing secret(s) the provider gave you.").WithField("secrets");
  } else {
    ULAK_ASSIGN_OR_RETURN(secrets, ReadSecrets(ParseJsonOr(source.secrets_json, boost::json::array())));
  }
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> added, OptionalString(body, "add_secret", 4096));
  if (added) secrets.push_back(*added);
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> removed, OptionalString(body, "remove_secret", 4096));
  if (removed) std::erase(secrets, *removed);
  ULAK_RETURN_IF_ERROR(incoming::ValidateSecrets(provider, secrets));
  next.secrets_json = SecretsJson(secrets);

  if (const boost::json::value* v = body.if_contains("options"); v != nullptr && !v->is_null()) {
    if (!v->is_object()) return InvalidArgument("options must be an object.").WithField("options");
    ULAK_RETURN_IF_ERROR(incoming::ParseSourceOptions(provider, v->as_object()).status());
    next.options_json = shape::SerializeJson(*v);
  } else if (creating) {
    ULAK_RETURN_IF_ERROR(incoming::ParseSourceOptions(provider, boost::json::object()).status());
  }
  if (const boost::json::value* v = body.if_contains("event_map"); v != nullptr) {
    ULAK_RETURN_IF_ERROR(incoming::ParseEventMap(*v).status());
    next.event_map_json = v->is_null() ? "[]" : shape::SerializeJson(*v);
  }
  ULAK_ASSIGN_OR_RETURN(std::optional<bool> is_default, OptionalBool(body, "default_for_provider"));
  if (is_default) next.default_for_provider = *is_default;
  ULAK_ASSIGN_OR_RETURN(std::optional<bool> active, OptionalBool(body, "is_active"));
  if (active) next.is_active = *active;
  source = std::move(next);
  return Status::Ok();
}

// A default_for_provider claim the store refused: says whether this organization holds the
// claim (and which source), never who else does.
Status DefaultClaimConflict(ApiContext& ctx, const store::Source& s, const Status& refused) {
  if (refused.code() != ErrorCode::kAlreadyExists || !s.default_for_provider) return refused;
  Result<store::Source> holder = ctx.store.GetDefaultSource(s.provider);
  if (holder.ok() && holder->organization_id == s.organization_id) {
    return AlreadyExists("Source " + holder->id + " of this organization is already the default for provider " +
                         s.provider + "; set its default_for_provider to false first.");
  }
  return AlreadyExists("The server-wide path /api/webhooks/" + s.provider +
                       " is not available to this organization. Use its own path, /api/webhooks/" + s.provider + "/" +
                       s.organization_id + ", which needs no default_for_provider, or /api/incoming/{source_id}.");
}

Result<http::Response> CreateSource(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> org_field, OptionalString(body, "organization_id", 64));
  ULAK_ASSIGN_OR_RETURN(std::string provider_name, RequireString(body, "provider", 32));
  std::optional<incoming::Provider> provider = incoming::ParseProvider(provider_name);
  if (!provider) {
    return InvalidArgument("provider must be one of stripe, apple, github, shopify, standard, hmac, header.")
        .WithField("provider");
  }
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, org_field, "organization_id", ctx.store));
  store::Source s;
  s.id = NewId(ctx.clock, ctx.random);
  s.organization_id = org_id;
  s.provider = std::string(incoming::ProviderName(*provider));
  s.options_json = "{}";
  s.event_map_json = "[]";
  ULAK_RETURN_IF_ERROR(ApplySourceFields(body, true, *provider, s));
  s.created_at = s.updated_at = ctx.clock.Now();
  if (Status created = ctx.store.CreateSource(s); !created.ok()) return DefaultClaimConflict(ctx, s, created);
  if (ctx.sources != nullptr) ctx.sources->Forget();  // a new default changes the provider paths
  return JsonResponse(201, boost::json::object{{"source", SourceJson(s)}});
}

Result<http::Response> ListSources(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, request.GetQuery("organization_id"),
                                                                "organization_id", ctx.store));
  ULAK_ASSIGN_OR_RETURN(store::PageRequest page, ParsePageRequest(request));
  ULAK_ASSIGN_OR_RETURN(store::Page<store::Source> result, ctx.store.ListSources(org_id, page));
  boost::json::array items;
  for (const auto& s : result.items) items.push_back(SourceJson(s));
  boost::json::object out{{"sources", std::move(items)}};
  AddPageInfo(out, result.next_cursor);
  return JsonResponse(200, out);
}

Result<http::Response> GetSource(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(store::Source s, ctx.store.GetSource(ScopeOf(principal), params.Get("id")));
  return JsonResponse(200, boost::json::object{{"source", SourceJson(s)}});
}

Result<http::Response> PatchSource(ApiContext& ctx, const http::Request& request, const http::PathParams& params,
                                   const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(store::Source s, ctx.store.GetSource(ScopeOf(principal), params.Get("id")));
  if (const boost::json::value* p = body.if_contains("provider");
      p != nullptr && !(p->is_string() && p->as_string() == s.provider)) {
    return InvalidArgument("provider cannot be changed; create another source.").WithField("provider");
  }
  const std::optional<incoming::Provider> provider = incoming::ParseProvider(s.provider);
  if (!provider) return Internal("stored source has an unknown provider " + s.provider);
  ULAK_RETURN_IF_ERROR(ApplySourceFields(body, false, *provider, s));
  s.updated_at = ctx.clock.Now();
  if (Status updated = ctx.store.UpdateSource(s); !updated.ok()) return DefaultClaimConflict(ctx, s, updated);
  if (ctx.sources != nullptr) ctx.sources->Forget();
  return JsonResponse(200, boost::json::object{{"source", SourceJson(s)}});
}

Result<http::Response> DeleteSource(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(store::Source s, ctx.store.GetSource(ScopeOf(principal), params.Get("id")));
  ULAK_RETURN_IF_ERROR(ctx.store.DeleteSource(s.organization_id, s.id, ctx.clock.Now()));
  if (ctx.sources != nullptr) ctx.sources->Forget();
  return NoContent();
}

}  // namespace

void AddSourceRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  router.Add(Method::kPost, "/api/sources",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return CreateSource(ctx, req, who); }));
  router.Add(Method::kGet, "/api/sources",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return ListSources(ctx, req, who); }));
  router.Add(Method::kGet, "/api/sources/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return GetSource(ctx, p, who); }));
  router.Add(Method::kPatch, "/api/sources/{id}",
             WithAuth(ctx, [&ctx](const auto& req, const auto& p, const auto& who) { return PatchSource(ctx, req, p, who); }));
  router.Add(Method::kDelete, "/api/sources/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return DeleteSource(ctx, p, who); }));
}

}  // namespace ulak::api
