#include "api/webhooks.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <unordered_map>

#include "api/errors.h"
#include "api/handler.h"
#include "api/header_mask.h"
#include "api/json_io.h"
#include "api/pagination.h"
#include "api/webhook_input.h"
#include "common/ids.h"
#include "crypto/hash.h"
#include "delivery/engine.h"
#include "delivery/publisher.h"
#include "delivery/signer.h"
#include "shape/templates/template.h"
#include "shape/json_number.h"

namespace ulak::api {
namespace {

constexpr char kCreatedMessage[] =
    "Webhook created successfully. Save the secret_key securely, it will not be shown again.";

boost::json::value OptionalTimeJson(const std::optional<TimePoint>& t) {
  return t ? boost::json::value(FormatRfc3339(*t)) : boost::json::value(nullptr);
}

// The template as set, its credentials only as {"configured", "kind"}: they never leave.
boost::json::value TemplateJson(const store::Webhook& w) {
  if (w.template_json.empty()) return nullptr;
  boost::json::value t = ParseJsonOr(w.template_json, boost::json::object());
  if (!t.is_object()) return nullptr;
  Result<shape::TemplateAuth> auth = shape::TemplateAuthFromJson(w.template_auth_json);
  boost::json::object a{{"configured", auth.ok() && auth->kind != shape::TemplateAuth::Kind::kNone}};
  if (auth.ok() && auth->kind != shape::TemplateAuth::Kind::kNone) a["kind"] = shape::AuthKindName(auth->kind);
  t.as_object()["auth"] = std::move(a);
  return t;
}

// The whpk_ half of an Ed25519 key: public, so every answer shows it; the whsk_ never leaves.
boost::json::value PublicKeyJson(const std::string& signing_key) {
  if (signing_key.empty()) return nullptr;
  return boost::json::value(delivery::SigningPublicKey(signing_key));
}

// Keeps the Ed25519 keys in step with signature_scheme: an ed25519 webhook without a key
// gets one, an hmac webhook keeps none. `rotate`: a new key replaces the current one, which
// stays as the previous key when `keep_previous` (the grace period).
void UpdateSigningKeys(store::Webhook& w, Random& random, bool rotate, bool keep_previous) {
  if (w.signature_scheme != "ed25519") {
    w.signing_key.clear();
    w.previous_signing_key.clear();
    return;
  }
  if (rotate && !w.signing_key.empty()) {
    w.previous_signing_key = keep_previous ? w.signing_key : std::string();
    w.signing_key.clear();
  }
  if (w.signing_key.empty()) w.signing_key = delivery::NewSigningKey(random);
}

boost::json::object WebhookJson(const store::Webhook& w) {
  return {{"id", w.id},
          {"organization_id", w.organization_id},
          {"name", w.name},
          {"url", w.url},
          {"events", ParseJsonOr(w.events_json, boost::json::array())},
          {"custom_headers", MaskedHeaders(w.custom_headers_json)},  // values carry credentials
          {"is_active", w.is_active},
          {"retry_enabled", w.retry_enabled},
          {"max_retries", w.max_retries},
          {"timeout_seconds", w.timeout_seconds},
          {"retry_policy", ParseJsonOr(w.retry_policy_json, boost::json::object())},
          {"max_in_flight", w.max_in_flight},
          {"last_triggered_at", OptionalTimeJson(w.last_triggered_at)},
          {"rate_limit_per_s", w.rate_limit_per_s ? boost::json::value(*w.rate_limit_per_s) : boost::json::value(nullptr)},
          {"disable_on_gone", w.disable_on_gone},
          {"filter", w.filter_json.empty() ? boost::json::value(nullptr) : ParseJsonOr(w.filter_json, nullptr)},
          {"fields", w.fields_json.empty() ? boost::json::value(nullptr) : ParseJsonOr(w.fields_json, nullptr)},
          {"transform", w.transform_lua.empty() ? boost::json::value(nullptr)
                                                : boost::json::value(boost::json::object{{"lua", w.transform_lua}})},
          {"ordered", w.ordered},
          {"disabled_reason", w.disabled_reason.empty() ? boost::json::value(nullptr) : boost::json::value(w.disabled_reason)},
          {"disabled_at", OptionalTimeJson(w.disabled_at)},
          {"previous_secret_expires_at", OptionalTimeJson(w.previous_secret_expires_at)},
          {"template", TemplateJson(w)},
          {"signature_scheme", w.signature_scheme},
          {"public_key", PublicKeyJson(w.signing_key)},
          {"previous_public_key", PublicKeyJson(w.previous_signing_key)},
          {"created_at", FormatRfc3339(w.created_at)},
          {"updated_at", FormatRfc3339(w.updated_at)}};
}

// The endpoint's health (GET and list): the circuit breaker's stored state, the last
// success and failure, and the share of successful tries over the last 24 hours (null
// without any).
boost::json::object HealthJson(const store::Webhook& w, TimePoint now, const store::WebhookHealth* day) {
  const bool open = w.breaker.cooldown.count() > 0;
  const char* state = !w.is_active ? "disabled" : open ? "paused" : "ok";
  boost::json::value rate = nullptr;
  if (day != nullptr && day->total > 0) rate = static_cast<double>(day->successful) / static_cast<double>(day->total);
  // A pause that is over shows as the breaker waiting for its probe: still paused, no time.
  std::optional<TimePoint> until = open ? w.breaker.paused_until : std::nullopt;
  if (until && *until <= now) until.reset();
  return {{"state", state},
          {"consecutive_failures", std::max(w.consecutive_failures, w.breaker.streak)},
          {"paused_until", OptionalTimeJson(until)},
          {"last_success_at", OptionalTimeJson(w.last_success_at)},
          {"last_failure_at", OptionalTimeJson(w.last_failure_at)},
          {"success_rate_24h", rate}};
}

// The last 24 hours of the organization's webhooks, by webhook id.
Result<std::unordered_map<std::string, store::WebhookHealth>> DayOfAttempts(ApiContext& ctx,
                                                                            const std::string& organization_id) {
  ULAK_ASSIGN_OR_RETURN(std::vector<store::WebhookHealth> rows,
                        ctx.store.GetWebhookHealth(organization_id, ctx.clock.Now() - std::chrono::hours(24)));
  std::unordered_map<std::string, store::WebhookHealth> out;
  for (store::WebhookHealth& row : rows) {
    std::string id = row.webhook_id;
    out.emplace(std::move(id), std::move(row));
  }
  return out;
}

boost::json::object WebhookWithHealthJson(const store::Webhook& w, TimePoint now,
                                          const std::unordered_map<std::string, store::WebhookHealth>& day) {
  boost::json::object out = WebhookJson(w);
  auto it = day.find(w.id);
  out["health"] = HealthJson(w, now, it == day.end() ? nullptr : &it->second);
  return out;
}

// The only place a secret leaves the server: the create and regenerate answers.
void AddSecret(boost::json::object& out, boost::json::object& webhook, const std::string& secret_key) {
  const std::string whsec = delivery::StandardWebhooksSecret(secret_key);
  webhook["secret_key"] = secret_key;
  webhook["standard_webhooks_secret"] = whsec;
  out["standard_webhooks_secret"] = whsec;
}

// An organization key sees its own webhooks; the admin key sees any.
std::string ScopeOf(const Principal& principal) { return principal.is_admin ? "" : principal.organization_id; }

Result<delivery::ConfigPtr> LoadConfig(ApiContext& ctx, const Principal& principal, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(store::Webhook w, ctx.store.GetWebhook(ScopeOf(principal), id));
  return delivery::ParseWebhookConfig(std::move(w));
}

Result<http::Response> CreateWebhook(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> org_field, OptionalString(body, "organization_id", 64));
  ULAK_ASSIGN_OR_RETURN(std::string org_id,
                        ResolveOrganization(principal, org_field, "organization_id", ctx.store));
  store::Webhook w;
  w.id = NewId(ctx.clock, ctx.random);
  w.organization_id = org_id;
  w.events_json = "[]";
  w.custom_headers_json = "{}";
  w.retry_policy_json = DefaultRetryPolicyJson();
  ULAK_RETURN_IF_ERROR(ApplyWebhookFields(body, ctx.mode, true, w));
  w.secret_key = delivery::NewSecretKey(ctx.random);
  UpdateSigningKeys(w, ctx.random, false, false);
  w.created_at = w.updated_at = ctx.clock.Now();
  ULAK_RETURN_IF_ERROR(ctx.store.CreateWebhook(w));
  if (ctx.publisher != nullptr) ctx.publisher->InvalidateSubscriptions(w.organization_id);
  boost::json::object webhook = WebhookJson(w);
  boost::json::object out;
  AddSecret(out, webhook, w.secret_key);
  out["webhook"] = std::move(webhook);
  out["message"] = kCreatedMessage;
  return JsonResponse(201, out);
}

Result<http::Response> ListWebhooks(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, request.GetQuery("organization_id"),
                                                                "organization_id", ctx.store));
  ULAK_ASSIGN_OR_RETURN(store::PageRequest page, ParsePageRequest(request));
  ULAK_ASSIGN_OR_RETURN(store::Page<store::Webhook> result, ctx.store.ListWebhooks(org_id, page));
  ULAK_ASSIGN_OR_RETURN(auto day, DayOfAttempts(ctx, org_id));
  const TimePoint now = ctx.clock.Now();
  boost::json::array items;
  for (const auto& w : result.items) items.push_back(WebhookWithHealthJson(w, now, day));
  boost::json::object out{{"webhooks", std::move(items)}};
  AddPageInfo(out, result.next_cursor);
  return JsonResponse(200, out);
}

Result<http::Response> GetWebhook(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(store::Webhook w, ctx.store.GetWebhook(ScopeOf(principal), params.Get("id")));
  ULAK_ASSIGN_OR_RETURN(auto day, DayOfAttempts(ctx, w.organization_id));
  return JsonResponse(200, boost::json::object{{"webhook", WebhookWithHealthJson(w, ctx.clock.Now(), day)}});
}

Result<http::Response> PatchWebhook(ApiContext& ctx, const http::Request& request, const http::PathParams& params,
                                    const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(store::Webhook w, ctx.store.GetWebhook(ScopeOf(principal), params.Get("id")));
  if (const boost::json::value* org = body.if_contains("organization_id");
      org != nullptr && !(org->is_string() && org->as_string() == w.organization_id)) {
    return InvalidArgument("organization_id cannot be changed.").WithField("organization_id");
  }
  ULAK_RETURN_IF_ERROR(ApplyWebhookFields(body, ctx.mode, false, w));
  ULAK_ASSIGN_OR_RETURN(std::optional<bool> regenerate, OptionalBool(body, "regenerate_secret"));
  ULAK_ASSIGN_OR_RETURN(std::optional<int64_t> grace_s, OptionalInt(body, "grace_period_s", 0, 30 * 86400));
  if (grace_s && !regenerate.value_or(false)) {
    return InvalidArgument("grace_period_s only applies with regenerate_secret: true.").WithField("grace_period_s");
  }
  if (regenerate.value_or(false)) {
    ULAK_RETURN_IF_ERROR(RequireNotPortal(principal));
    // With a grace period the old secret keeps signing (a second webhook-signature) until
    // receivers have switched.
    if (grace_s.value_or(0) > 0) {
      w.previous_secret_key = w.secret_key;
      w.previous_secret_expires_at = ctx.clock.Now() + std::chrono::seconds(*grace_s);
    } else {
      w.previous_secret_key.clear();
      w.previous_secret_expires_at.reset();
    }
    w.secret_key = delivery::NewSecretKey(ctx.random);
  }
  UpdateSigningKeys(w, ctx.random, regenerate.value_or(false), grace_s.value_or(0) > 0);
  w.updated_at = ctx.clock.Now();
  ULAK_RETURN_IF_ERROR(ctx.store.UpdateWebhook(w));
  if (!w.is_active) (void)ctx.store.CancelPendingDeliveries(w.id);
  if (ctx.engine != nullptr) {
    ULAK_ASSIGN_OR_RETURN(delivery::ConfigPtr config, delivery::ParseWebhookConfig(w));
    ctx.engine->UpdateWebhook(std::move(config));
  }
  if (ctx.publisher != nullptr) {
    ctx.publisher->InvalidateSubscriptions(w.organization_id);
  }
  boost::json::object webhook = WebhookJson(w);
  boost::json::object out;
  if (regenerate.value_or(false)) {
    AddSecret(out, webhook, w.secret_key);
    out["message"] = "Secret regenerated. Save the secret_key securely, it will not be shown again.";
  }
  out["webhook"] = std::move(webhook);
  return JsonResponse(200, out);
}

Result<http::Response> DeleteWebhook(ApiContext& ctx, const http::PathParams& params, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(store::Webhook w, ctx.store.GetWebhook(ScopeOf(principal), params.Get("id")));
  ULAK_RETURN_IF_ERROR(ctx.store.DeleteWebhook(w.organization_id, w.id, ctx.clock.Now()));
  if (ctx.engine != nullptr) ctx.engine->RemoveWebhook(w.id);
  if (ctx.publisher != nullptr) ctx.publisher->InvalidateSubscriptions(w.organization_id);
  return NoContent();
}

Status TestWebhook(ApiContext& ctx, http::Request&& request, const Principal& principal, http::Reply reply) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(std::string id, RequireString(body, "webhook_config_id", 64));
  ULAK_ASSIGN_OR_RETURN(delivery::ConfigPtr config, LoadConfig(ctx, principal, id));
  if (ctx.publisher == nullptr) return Unavailable("The delivery engine is not running.");
  ctx.publisher->SendTest(std::move(config), [reply](Result<store::Attempt>&& attempt) {
    if (!attempt.ok()) {
      reply(ErrorFromStatus(attempt.status()));
      return;
    }
    const store::Attempt& a = *attempt;
    const bool success = a.status == store::DeliveryStatus::kSuccess;
    boost::json::object out{
        {"success", success},
        {"statusCode", a.response_status ? boost::json::value(*a.response_status) : boost::json::value(nullptr)},
        {"responseBody", a.response_body},
        {"responseTimeMs", a.response_time_ms},
        {"message", success ? std::string("Webhook test successful") : "Webhook test failed: " + a.error_message},
        {"attempt_id", a.id},
        {"delivery_id", a.delivery_id}};
    reply(JsonResponse(200, out));
  });
  return Status::Ok();
}

boost::json::object AttemptJson(const store::Attempt& a) {
  return {{"id", a.id},
          {"webhook_config_id", a.webhook_id},
          {"delivery_id", a.delivery_id},
          {"organization_id", a.organization_id},
          {"event_type", a.event_type},
          {"event_id", a.event_ref},
          {"request_url", a.request_url},
          {"request_method", a.request_method},
          {"request_body", boost::json::value(a.request_body)},  // ListLogs puts the parsed body here
          {"request_signature", a.request_signature},
          {"response_status", a.response_status ? boost::json::value(*a.response_status) : boost::json::value(nullptr)},
          {"response_body", a.response_body},
          {"response_time_ms", a.response_time_ms},
          {"status", store::DeliveryStatusName(a.status)},
          {"attempt_number", a.attempt_number},
          {"error_message", a.error_message.empty() ? boost::json::value(nullptr) : boost::json::value(a.error_message)},
          {"delivered_at", OptionalTimeJson(a.delivered_at)},
          {"next_retry_at", OptionalTimeJson(a.next_retry_at)},
          {"created_at", FormatRfc3339(a.created_at)}};
}

Result<http::Response> ListLogs(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  store::AttemptFilter f;
  ULAK_ASSIGN_OR_RETURN(f.organization_id, ResolveOrganization(principal, request.GetQuery("organization_id"),
                                                               "organization_id", ctx.store));
  if (auto s = request.GetQuery("status"); s && !s->empty()) {
    f.status = store::ParseDeliveryStatus(*s);
    if (!f.status || *f.status == store::DeliveryStatus::kPending || *f.status == store::DeliveryStatus::kCancelled) {
      return InvalidArgument("status must be success, failed, retrying or skipped.").WithField("status");
    }
  }
  if (auto w = request.GetQuery("webhook_config_id")) f.webhook_id = std::string(*w);
  if (auto e = request.GetQuery("event_type")) f.event_type = std::string(*e);
  if (auto d = request.GetQuery("delivery_id")) f.delivery_id = std::string(*d);
  if (auto since = request.GetQuery("since"); since && !since->empty()) {
    f.since = ParseTime(*since);
    if (!f.since) return InvalidArgument("since must be an RFC 3339 time or unix seconds.").WithField("since");
  }
  ULAK_ASSIGN_OR_RETURN(f.limit, ParseLimit(request, 50, 1000));
  ULAK_ASSIGN_OR_RETURN(f.before, ParseCursor(request));
  // One more than asked tells whether another page exists.
  store::AttemptFilter probe = f;
  probe.limit = f.limit + 1;
  ULAK_ASSIGN_OR_RETURN(store::AttemptLog log, ctx.store.ListAttemptsWithStats(probe));
  std::vector<store::Attempt>& attempts = log.attempts;
  const store::AttemptStats& stats = log.stats;
  std::string next_cursor;
  if (static_cast<int>(attempts.size()) > f.limit) {
    attempts.resize(f.limit);
    next_cursor = attempts.back().id;
  }
  boost::json::array logs;
  shape::NumberDigits digits;  // request bodies show their numbers as published
  for (const auto& a : attempts) {
    boost::json::object row = AttemptJson(a);
    if (Result<shape::ParsedJson> body = shape::ParseJsonKeepingDigits(a.request_body); body.ok()) {
      row["request_body"] = std::move(body->value);
      digits.Merge(body->digits);
    }
    logs.push_back(std::move(row));
  }
  boost::json::object out{{"logs", std::move(logs)},
                          {"stats",
                           {{"total", stats.total},
                            {"success", stats.success},
                            {"failed", stats.failed},
                            {"retrying", stats.retrying},
                            {"avgResponseTime", static_cast<int64_t>(stats.avg_response_time_ms + 0.5)}}}};
  AddPageInfo(out, next_cursor);
  return JsonResponse(200, out, &digits);
}

// The seed's cron endpoint: authorized by CRON_SECRET (or the admin key), not an API key.
http::RouteHandler RetryNow(ApiContext& ctx) {
  return [&ctx](http::Request&& request, const http::PathParams&, http::Reply reply) {
    bool allowed = false;
    if (auto header = request.GetHeader("Authorization"); header && header->size() > 7 &&
                                                          strncasecmp(header->data(), "bearer ", 7) == 0) {
      const std::string_view token = header->substr(7);
      allowed = !ctx.cron_secret.empty() && crypto::ConstantTimeEquals(crypto::Sha256(token),
                                                                      crypto::Sha256(ctx.cron_secret));
    }
    if (!allowed) {
      Result<Principal> principal = ctx.auth.Authenticate(request);
      allowed = principal.ok() && principal->is_admin;
    }
    if (!allowed) {
      reply(ErrorFromStatus(Unauthenticated("Send 'Authorization: Bearer <CRON_SECRET>' to run due retries.")));
      return;
    }
    const int processed = ctx.engine != nullptr ? ctx.engine->RunDueRetriesNow() : 0;
    reply(JsonResponse(200, boost::json::object{{"success", true}, {"processed", processed},
                                                {"message", "Started " + std::to_string(processed) + " retries."}}));
  };
}

}  // namespace

void AddWebhookRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  // Literal paths before /api/webhooks/{id}: the first match wins.
  router.Add(Method::kPost, "/api/webhooks/test",
             WithAuthAsync(ctx, [&ctx](http::Request&& req, const auto&, const auto& who, http::Reply reply) {
               return TestWebhook(ctx, std::move(req), who, std::move(reply));
             }));
  router.Add(Method::kGet, "/api/webhooks/logs",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return ListLogs(ctx, req, who); }));
  router.Add(Method::kPost, "/api/webhooks/retry", RetryNow(ctx));
  router.Add(Method::kPost, "/api/webhooks",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return CreateWebhook(ctx, req, who); }));
  router.Add(Method::kGet, "/api/webhooks",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return ListWebhooks(ctx, req, who); }));
  router.Add(Method::kGet, "/api/webhooks/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return GetWebhook(ctx, p, who); }));
  router.Add(Method::kPatch, "/api/webhooks/{id}",
             WithAuth(ctx, [&ctx](const auto& req, const auto& p, const auto& who) { return PatchWebhook(ctx, req, p, who); }));
  router.Add(Method::kDelete, "/api/webhooks/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return DeleteWebhook(ctx, p, who); }));
}

}  // namespace ulak::api
