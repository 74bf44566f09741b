#include "api/organizations.h"

#include <boost/json/array.hpp>

#include "api/handler.h"
#include "api/json_io.h"
#include "api/pagination.h"
#include "common/ids.h"

namespace ulak::api {
namespace {

constexpr size_t kMaxNameLength = 200;

constexpr int64_t kMaxRetentionDays = 36500;

boost::json::object OrganizationJson(const store::Organization& org) {
  boost::json::object out{{"id", org.id}, {"name", org.name}, {"created_at", FormatRfc3339(org.created_at)}};
  // null: the server's retention_days applies; 0: kept forever.
  if (org.retention_days) {
    out["retention_days"] = *org.retention_days;
  } else {
    out["retention_days"] = nullptr;
  }
  return out;
}

boost::json::object KeyJson(const store::ApiKey& key) {
  return {{"id", key.id},
          {"organization_id", key.organization_id},
          {"prefix", key.prefix},
          {"created_at", FormatRfc3339(key.created_at)}};
}

store::ApiKey NewKeyRecord(ApiContext& ctx, const std::string& organization_id, const MintedKey& minted) {
  return store::ApiKey{NewId(ctx.clock, ctx.random), organization_id, minted.hash, minted.prefix,
                       ctx.clock.Now()};
}

Result<std::string> ValidName(const boost::json::object& body) {
  ULAK_ASSIGN_OR_RETURN(std::string name, RequireString(body, "name", kMaxNameLength));
  if (name.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("name must not be blank.").WithField("name");
  }
  return name;
}

Result<http::Response> CreateOrganization(ApiContext& ctx, const http::Request& request,
                                          const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireAdmin(principal));
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(std::string name, ValidName(body));
  store::Organization org{NewId(ctx.clock, ctx.random), std::move(name), ctx.clock.Now()};
  const MintedKey minted = MintKey(ctx.random, kOrganizationKeyPrefix);
  const store::ApiKey key = NewKeyRecord(ctx, org.id, minted);
  ULAK_RETURN_IF_ERROR(ctx.store.CreateOrganization(org, key));
  return JsonResponse(201, boost::json::object{{"organization", OrganizationJson(org)},
                                               {"api_key", minted.secret},
                                               {"api_key_id", key.id}});
}

Result<http::Response> ListOrganizations(ApiContext& ctx, const http::Request& request,
                                         const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireAdmin(principal));
  ULAK_ASSIGN_OR_RETURN(store::PageRequest page, ParsePageRequest(request));
  ULAK_ASSIGN_OR_RETURN(store::Page<store::Organization> result, ctx.store.ListOrganizations(page));
  boost::json::array items;
  for (const auto& org : result.items) items.push_back(OrganizationJson(org));
  boost::json::object out{{"organizations", std::move(items)}};
  AddPageInfo(out, result.next_cursor);
  return JsonResponse(200, out);
}

Result<http::Response> GetOrganization(ApiContext& ctx, const http::PathParams& params,
                                       const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, params.Get("id"), "id", ctx.store));
  ULAK_ASSIGN_OR_RETURN(store::Organization org, ctx.store.GetOrganization(org_id));
  return JsonResponse(200, boost::json::object{{"organization", OrganizationJson(org)}});
}

// PATCH /api/organizations/{id} {"retention_days": N | null}: the organization's own
// retention (days; 0 keeps forever; null returns to the server's setting). Admin only: disk
// use is the operator's business.
Result<http::Response> UpdateOrganization(ApiContext& ctx, const http::Request& request,
                                          const http::PathParams& params, const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireAdmin(principal));
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  for (const auto& field : body) {
    if (field.key() != "retention_days") {
      return InvalidArgument("Unknown field " + std::string(field.key()) + ".").WithField(std::string(field.key()));
    }
  }
  const boost::json::value* days = body.if_contains("retention_days");
  if (days == nullptr) return InvalidArgument("retention_days is required.").WithField("retention_days");
  std::optional<int> retention;
  if (!days->is_null()) {
    ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> value, OptionalInt(body, "retention_days", 0, kMaxRetentionDays));
    retention = static_cast<int>(*value);
  }
  ULAK_RETURN_IF_ERROR(ctx.store.SetOrganizationRetention(params.Get("id"), retention));
  ULAK_ASSIGN_OR_RETURN(store::Organization org, ctx.store.GetOrganization(params.Get("id")));
  return JsonResponse(200, boost::json::object{{"organization", OrganizationJson(org)}});
}

Result<http::Response> CreateKey(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireNotPortal(principal));
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, params.Get("id"), "id", ctx.store));
  const MintedKey minted = MintKey(ctx.random, kOrganizationKeyPrefix);
  const store::ApiKey key = NewKeyRecord(ctx, org_id, minted);
  ULAK_RETURN_IF_ERROR(ctx.store.CreateApiKey(key));
  return JsonResponse(201, boost::json::object{{"key", KeyJson(key)}, {"api_key", minted.secret}});
}

Result<http::Response> ListKeys(ApiContext& ctx, const http::Request& request, const http::PathParams& params,
                                const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireNotPortal(principal));
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, params.Get("id"), "id", ctx.store));
  ULAK_ASSIGN_OR_RETURN(store::PageRequest page, ParsePageRequest(request));
  ULAK_ASSIGN_OR_RETURN(store::Page<store::ApiKey> result, ctx.store.ListApiKeys(org_id, page));
  boost::json::array items;
  for (const auto& key : result.items) items.push_back(KeyJson(key));
  boost::json::object out{{"keys", std::move(items)}};
  AddPageInfo(out, result.next_cursor);
  return JsonResponse(200, out);
}

Result<http::Response> DeleteKey(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireNotPortal(principal));
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, params.Get("id"), "id", ctx.store));
  ULAK_RETURN_IF_ERROR(ctx.store.DeleteApiKey(org_id, params.Get("key_id")));
  ctx.auth.Forget(params.Get("key_id"));
  return NoContent();
}

}  // namespace

void AddOrganizationRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  router.Add(Method::kPost, "/api/organizations",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) {
               return CreateOrganization(ctx, req, who);
             }));
  router.Add(Method::kGet, "/api/organizations",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) {
               return ListOrganizations(ctx, req, who);
             }));
  router.Add(Method::kGet, "/api/organizations/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& params, const auto& who) {
               return GetOrganization(ctx, params, who);
             }));
  router.Add(Method::kPatch, "/api/organizations/{id}",
             WithAuth(ctx, [&ctx](const auto& req, const auto& params, const auto& who) {
               return UpdateOrganization(ctx, req, params, who);
             }));
  router.Add(Method::kPost, "/api/organizations/{id}/keys",
             WithAuth(ctx, [&ctx](const auto&, const auto& params, const auto& who) {
               return CreateKey(ctx, params, who);
             }));
  router.Add(Method::kGet, "/api/organizations/{id}/keys",
             WithAuth(ctx, [&ctx](const auto& req, const auto& params, const auto& who) {
               return ListKeys(ctx, req, params, who);
             }));
  router.Add(Method::kDelete, "/api/organizations/{id}/keys/{key_id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& params, const auto& who) {
               return DeleteKey(ctx, params, who);
             }));
}

}  // namespace ulak::api
