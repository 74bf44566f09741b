#include "api/inboxes.h"

#include <boost/json/array.hpp>
#include "shape/json_number.h"
#include <strings.h>

#include "api/handler.h"
#include "api/errors.h"
#include "api/json_io.h"
#include "api/pagination.h"
#include "common/ids.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "delivery/signer.h"

namespace ulak::api {
namespace {

constexpr std::string_view kInboxIdPrefix = "ibx_";

std::string ScopeOf(const Principal& principal) { return principal.is_admin ? "" : principal.organization_id; }

boost::json::object InboxJson(const store::Inbox& inbox) {
  return {{"id", inbox.id},
          {"organization_id", inbox.organization_id},
          {"name", inbox.name},
          {"status", inbox.response_status},
          {"url", "/in/" + inbox.id},
          {"created_at", FormatRfc3339(inbox.created_at)}};
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::optional<std::string_view> HeaderOf(const boost::json::array& headers, std::string_view name) {
  for (const auto& h : headers) {
    const auto& pair = h.as_array();
    const auto& n = pair.at(0).as_string();
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), name.size()) == 0) {
      return std::string_view(pair.at(1).as_string());
    }
  }
  return std::nullopt;
}

// Which of the organization's webhooks signed this request, if any: the check a receiver
// would do, done for the user (the secrets never leave the server).
boost::json::object SignatureCheck(const boost::json::array& headers, const std::string& body,
                                   const std::vector<store::Webhook>& webhooks) {
  boost::json::object out;
  std::optional<std::string_view> seed = HeaderOf(headers, "X-Webhook-Signature");
  std::optional<std::string_view> standard = HeaderOf(headers, "webhook-signature");
  std::optional<std::string_view> id = HeaderOf(headers, "webhook-id");
  std::optional<std::string_view> ts = HeaderOf(headers, "webhook-timestamp");
  out["present"] = seed.has_value() || standard.has_value();
  if (!seed && !standard) return out;
  bool seed_valid = false;
  bool standard_valid = false;
  for (const store::Webhook& w : webhooks) {
    for (const std::string* secret : {&w.secret_key, &w.previous_secret_key}) {
      if (secret->empty()) continue;
      bool match = false;
      if (seed && crypto::ConstantTimeEquals(delivery::SignatureSeed001(*secret, body), *seed)) {
        seed_valid = match = true;
      }
      if (standard && id && ts) {
        int64_t ts_s = 0;
        try { ts_s = std::stoll(std::string(*ts)); } catch (...) { ts_s = -1; }
        const std::string expected = delivery::SignatureStandard(*secret, *id, ts_s, body);
        for (std::string_view rest = *standard; !rest.empty();) {
          const size_t sp = rest.find(' ');
          if (crypto::ConstantTimeEquals(expected, rest.substr(0, sp))) standard_valid = match = true;
          rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        }
      }
      if (match && !out.contains("webhook_config_id")) {
        out["webhook_config_id"] = w.id;
        out["webhook_name"] = w.name;
      }
    }
  }
  if (seed) out["x_webhook_signature_valid"] = seed_valid;
  if (standard) out["standard_signature_valid"] = standard_valid;
  out["valid"] = (!seed || seed_valid) && (!standard || standard_valid);
  return out;
}

boost::json::object RequestJson(const store::InboxRequest& r, const std::vector<store::Webhook>& webhooks) {
  boost::json::value headers = ParseJsonOr(r.headers_json, boost::json::array());
  if (!headers.is_array()) headers = boost::json::array();
  boost::json::object out{{"id", r.id},
                          {"method", r.method},
                          {"path", r.path},
                          {"query", r.query},
                          {"headers", headers},
                          {"remote_address", r.remote_address},
                          {"received_at", FormatRfc3339(r.received_at)},
                          {"body_bytes", r.body.size()}};
  if (IsValidUtf8(r.body)) {
    out["body"] = r.body;
  } else {
    out["body_base64"] = crypto::Base64Encode(r.body);
  }
  out["signature"] = SignatureCheck(headers.as_array(), r.body, webhooks);
  return out;
}

Result<int> StatusField(const boost::json::object& body) {
  ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> status, OptionalInt(body, "status", 200, 599));
  return static_cast<int>(status.value_or(200));
}

Result<http::Response> CreateInbox(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  boost::json::object body;
  if (!request.body.empty()) {
    ULAK_ASSIGN_OR_RETURN(body, ParseJsonObject(request.body));
  }
  std::optional<std::string_view> requested;
  if (const auto* org = body.if_contains("organization_id"); org != nullptr && org->is_string()) {
    requested = std::string_view(org->as_string());
  } else {
    requested = request.GetQuery("organization_id");
  }
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, requested, "organization_id", ctx.store));
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> name, OptionalString(body, "name", 200));
  ULAK_ASSIGN_OR_RETURN(int status, StatusField(body));
  ULAK_ASSIGN_OR_RETURN(std::vector<store::Inbox> existing, ctx.store.ListInboxes(org_id));
  if (existing.size() >= kMaxInboxesPerOrganization) {
    return ResourceExhausted("An organization has at most " + std::to_string(kMaxInboxesPerOrganization) +
                             " inboxes; delete one first.");
  }
  // The id is the URL, and /in/<id> needs no key: 128 random bits make it unguessable.
  store::Inbox inbox{std::string(kInboxIdPrefix) + crypto::Base64UrlEncode(ctx.random.Bytes(16)), org_id,
                     name.value_or("inbox"), status, ctx.clock.Now()};
  ULAK_RETURN_IF_ERROR(ctx.store.CreateInbox(inbox));
  return JsonResponse(201, boost::json::object{{"inbox", InboxJson(inbox)}});
}

Result<http::Response> ListInboxes(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, request.GetQuery("organization_id"),
                                                                "organization_id", ctx.store));
  ULAK_ASSIGN_OR_RETURN(std::vector<store::Inbox> inboxes, ctx.store.ListInboxes(org_id));
  boost::json::array items;
  for (const auto& i : inboxes) items.push_back(InboxJson(i));
  return JsonResponse(200, boost::json::object{{"inboxes", std::move(items)}});
}

Result<http::Response> GetInbox(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(store::Inbox inbox, ctx.store.GetInbox(ScopeOf(principal), params.Get("id")));
  return JsonResponse(200, boost::json::object{{"inbox", InboxJson(inbox)}});
}

Result<http::Response> PatchInbox(ApiContext& ctx, const http::Request& request, const http::PathParams& params,
                                  const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(store::Inbox inbox, ctx.store.GetInbox(ScopeOf(principal), params.Get("id")));
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> name, OptionalString(body, "name", 200));
  if (name) inbox.name = *name;
  if (body.contains("status")) {
    ULAK_ASSIGN_OR_RETURN(inbox.response_status, StatusField(body));
  }
  ULAK_RETURN_IF_ERROR(ctx.store.UpdateInbox(inbox));
  return JsonResponse(200, boost::json::object{{"inbox", InboxJson(inbox)}});
}

Result<http::Response> DeleteInbox(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(store::Inbox inbox, ctx.store.GetInbox(ScopeOf(principal), params.Get("id")));
  ULAK_RETURN_IF_ERROR(ctx.store.DeleteInbox(inbox.organization_id, inbox.id));
  return NoContent();
}

Result<http::Response> ListRequests(ApiContext& ctx, const http::Request& request, const http::PathParams& params,
                                    const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(int limit, ParseLimit(request, kInboxKeepRequests, kInboxKeepRequests));
  ULAK_ASSIGN_OR_RETURN(store::Inbox inbox, ctx.store.GetInbox(ScopeOf(principal), params.Get("id")));
  ULAK_ASSIGN_OR_RETURN(std::vector<store::InboxRequest> requests,
                        ctx.store.ListInboxRequests(inbox.id, ctx.clock.Now() - kInboxKeepFor, limit));
  ULAK_ASSIGN_OR_RETURN(std::vector<store::Webhook> webhooks, ctx.store.ListAllWebhooks(inbox.organization_id));
  boost::json::array items;
  for (const auto& r : requests) items.push_back(RequestJson(r, webhooks));
  return JsonResponse(200, boost::json::object{{"inbox", InboxJson(inbox)}, {"requests", std::move(items)}});
}

// /in/<id>: no key (a webhook's receiver has none); the unguessable id is the capability.
Result<http::Response> Receive(ApiContext& ctx, const http::Request& request, const http::PathParams& params) {
  Result<store::Inbox> inbox = ctx.store.GetInbox("", params.Get("id"));
  if (!inbox.ok()) return inbox.status();
  boost::json::array headers;
  for (const auto& h : request.headers) headers.push_back(boost::json::array{h.name, h.value});
  const size_t q = request.target.find('?');
  store::InboxRequest r{NewId(ctx.clock, ctx.random),
                        inbox->id,
                        std::string(http::MethodName(request.method)),
                        request.path,
                        q == std::string::npos ? "" : request.target.substr(q + 1),
                        shape::SerializeJson(headers),
                        request.body.substr(0, kInboxMaxBodyBytes),
                        request.remote_address,
                        ctx.clock.Now()};
  ULAK_RETURN_IF_ERROR(ctx.store.RecordInboxRequest(r, kInboxKeepRequests, r.received_at - kInboxKeepFor));
  return JsonResponse(inbox->response_status, boost::json::object{{"ok", inbox->response_status < 400}});
}

}  // namespace

void AddInboxRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  router.Add(Method::kPost, "/api/inboxes", WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) {
               return CreateInbox(ctx, req, who);
             }));
  router.Add(Method::kGet, "/api/inboxes", WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) {
               return ListInboxes(ctx, req, who);
             }));
  router.Add(Method::kGet, "/api/inboxes/{id}", WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) {
               return GetInbox(ctx, p, who);
             }));
  router.Add(Method::kPatch, "/api/inboxes/{id}",
             WithAuth(ctx, [&ctx](const auto& req, const auto& p, const auto& who) {
               return PatchInbox(ctx, req, p, who);
             }));
  router.Add(Method::kDelete, "/api/inboxes/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return DeleteInbox(ctx, p, who); }));
  router.Add(Method::kGet, "/api/inboxes/{id}/requests",
             WithAuth(ctx, [&ctx](const auto& req, const auto& p, const auto& who) {
               return ListRequests(ctx, req, p, who);
             }));
  for (Method m : {Method::kGet, Method::kPost, Method::kPut, Method::kPatch, Method::kDelete, Method::kOptions}) {
    router.Add(m, "/in/{id}", [&ctx](http::Request&& request, const http::PathParams& params, http::Reply reply) {
      Result<http::Response> r = Receive(ctx, request, params);
      reply(r.ok() ? std::move(r).value() : ErrorFromStatus(r.status()));
    });
  }
}

}  // namespace ulak::api
