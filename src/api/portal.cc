#include "api/portal.h"

#include "api/handler.h"
#include "api/json_io.h"
#include "api/portal_token.h"
#include "crypto/encoding.h"

namespace ulak::api {
namespace {

constexpr std::string_view kSettingName = "portal_signing_key";

Result<http::Response> CreatePortalLink(ApiContext& ctx, const http::Request& request,
                                        const http::PathParams& params, const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireNotPortal(principal));
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, params.Get("id"), "id", ctx.store));
  int64_t ttl_s = kDefaultPortalTtlS;
  if (!request.body.empty()) {
    ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
    ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> ttl, OptionalInt(body, "expires_in_s", 1, kMaxPortalTtlS));
    if (ttl) ttl_s = *ttl;
  }
  if (ctx.auth.portal_key().empty()) return Unavailable("Portal links are not enabled on this server.");
  ULAK_ASSIGN_OR_RETURN(int64_t generation, ctx.store.GetPortalGeneration(org_id));
  PortalClaims claims{org_id, ctx.clock.Now() + std::chrono::seconds(ttl_s), generation};
  const std::string token = SignPortalToken(ctx.auth.portal_key(), claims);
  // In the fragment: browsers never send it, so no proxy or access log records the token.
  return JsonResponse(201, boost::json::object{{"url", "/ui/#portal=" + token},
                                               {"organization_id", org_id},
                                               {"expires_at", FormatRfc3339(claims.expires_at)}});
}

Result<http::Response> RevokePortalLinks(ApiContext& ctx, const http::PathParams& params,
                                         const Principal& principal) {
  ULAK_RETURN_IF_ERROR(RequireNotPortal(principal));
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, params.Get("id"), "id", ctx.store));
  ULAK_RETURN_IF_ERROR(ctx.store.RevokePortalTokens(org_id).status());
  return NoContent();
}

// Who the caller is, so the UI can show the right pages without guessing from errors.
Result<http::Response> WhoAmI(const Principal& principal) {
  const char* kind = principal.is_admin ? "admin" : principal.is_portal ? "portal" : "organization";
  return JsonResponse(200, boost::json::object{
      {"kind", kind},
      {"organization_id", principal.is_admin ? boost::json::value(nullptr) : boost::json::value(principal.organization_id)}});
}

}  // namespace

Result<std::string> LoadPortalSigningKey(store::Store& store, const crypto::SecretBox& box, Random& random) {
  ULAK_ASSIGN_OR_RETURN(std::string fresh, box.Seal(crypto::HexEncode(random.Bytes(32)), random));
  // Named after the master key: after a master-key rotation a new signing key is made (the
  // old one could no longer be opened), which only ends the links issued before it.
  const std::string name = std::string(kSettingName) + ":" + box.current_key_id();
  ULAK_ASSIGN_OR_RETURN(std::string stored, store.PutSettingIfAbsent(name, fresh));
  return box.Open(stored);
}

void AddPortalRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  router.Add(Method::kGet, "/api/whoami",
             WithAuth(ctx, [](const auto&, const auto&, const auto& who) { return WhoAmI(who); }));
  router.Add(Method::kPost, "/api/organizations/{id}/portal",
             WithAuth(ctx, [&ctx](const auto& req, const auto& params, const auto& who) {
               return CreatePortalLink(ctx, req, params, who);
             }));
  router.Add(Method::kDelete, "/api/organizations/{id}/portal",
             WithAuth(ctx, [&ctx](const auto&, const auto& params, const auto& who) {
               return RevokePortalLinks(ctx, params, who);
             }));
}

}  // namespace ulak::api
