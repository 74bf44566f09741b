#include "api/operations.h"

#include <boost/json/array.hpp>

#include "api/handler.h"
#include "api/json_io.h"
#include "delivery/operations.h"

namespace ulak::api {
namespace {

// An organization key reaches only its own objects; others' ids are "not found".
std::string ScopeOf(const Principal& principal) { return principal.is_admin ? "" : principal.organization_id; }

Result<delivery::DeliveryOperations*> Operations(ApiContext& ctx) {
  if (ctx.operations == nullptr) return Unavailable("The delivery engine is not running.");
  return ctx.operations;
}

boost::json::object DeliveryJson(const store::Delivery& d) {
  return {{"id", d.id},
          {"event_id", d.event_id},
          {"webhook_config_id", d.webhook_id},
          {"organization_id", d.organization_id},
          {"status", store::DeliveryStatusName(d.status)},
          {"attempts", d.attempts},
          {"next_attempt_at", FormatRfc3339(d.next_attempt_at)},
          {"created_at", FormatRfc3339(d.created_at)}};
}

boost::json::object JobJson(const store::Job& j) {
  return {{"id", j.id},
          {"organization_id", j.organization_id},
          {"kind", j.kind},
          {"status", j.status},
          {"params", ParseJsonOr(j.params_json, boost::json::object())},
          {"total", j.total},
          {"done", j.done},
          {"error", j.error.empty() ? boost::json::value(nullptr) : boost::json::value(j.error)},
          {"created_at", FormatRfc3339(j.created_at)},
          {"updated_at", FormatRfc3339(j.updated_at)}};
}

Result<http::Response> GetDelivery(ApiContext& ctx, const http::PathParams& p, const Principal& who) {
  ULAK_ASSIGN_OR_RETURN(store::PendingDelivery d, ctx.store.GetDelivery(ScopeOf(who), p.Get("id")));
  return JsonResponse(200, boost::json::object{{"delivery", DeliveryJson(d.delivery)}});
}

Result<http::Response> RetryDelivery(ApiContext& ctx, const http::PathParams& p, const Principal& who) {
  ULAK_ASSIGN_OR_RETURN(delivery::DeliveryOperations * ops, Operations(ctx));
  ULAK_ASSIGN_OR_RETURN(store::PendingDelivery d, ops->RetryDelivery(ScopeOf(who), p.Get("id")));
  return JsonResponse(202, boost::json::object{{"delivery", DeliveryJson(d.delivery)},
                                               {"message", "The delivery is being sent again."}});
}

Result<http::Response> Recover(ApiContext& ctx, const http::Request& req, const http::PathParams& p,
                               const Principal& who) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(req.body));
  ULAK_ASSIGN_OR_RETURN(std::string since_text, RequireString(body, "since", 64));
  const std::optional<TimePoint> since = ParseTime(since_text);
  if (!since) return InvalidArgument("since must be an RFC 3339 time or unix seconds.").WithField("since");
  ULAK_ASSIGN_OR_RETURN(delivery::DeliveryOperations * ops, Operations(ctx));
  ULAK_ASSIGN_OR_RETURN(store::Job job, ops->StartRecover(ScopeOf(who), p.Get("id"), *since));
  return JsonResponse(202, boost::json::object{{"job", JobJson(job)}});
}

Result<http::Response> Resend(ApiContext& ctx, const http::Request& req, const http::PathParams& p,
                              const Principal& who) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(req.body));
  ULAK_ASSIGN_OR_RETURN(std::string webhook_id, RequireString(body, "webhook_config_id", 64));
  ULAK_ASSIGN_OR_RETURN(delivery::DeliveryOperations * ops, Operations(ctx));
  ULAK_ASSIGN_OR_RETURN(store::Delivery d, ops->ResendEvent(ScopeOf(who), p.Get("id"), webhook_id));
  return JsonResponse(202, boost::json::object{{"delivery", DeliveryJson(d)}});
}

Result<http::Response> GetJob(ApiContext& ctx, const http::PathParams& p, const Principal& who) {
  ULAK_ASSIGN_OR_RETURN(store::Job job, ctx.store.GetJob(ScopeOf(who), p.Get("id")));
  return JsonResponse(200, boost::json::object{{"job", JobJson(job)}});
}

// Seed 001: success rate and average response time per webhook over the last 24 hours.
Result<http::Response> WebhookHealth(ApiContext& ctx, const http::Request& req, const Principal& who) {
  ULAK_ASSIGN_OR_RETURN(std::string org, ResolveOrganization(who, req.GetQuery("organization_id"), "organization_id",
                                                             ctx.store));
  ULAK_ASSIGN_OR_RETURN(std::vector<store::WebhookHealth> rows,
                        ctx.store.GetWebhookHealth(org, ctx.clock.Now() - std::chrono::hours(24)));
  boost::json::array out;
  for (const auto& r : rows) {
    out.push_back(boost::json::object{
        {"webhook_config_id", r.webhook_id},
        {"name", r.name},
        {"total_deliveries", r.total},
        {"successful", r.successful},
        {"success_rate", r.total == 0 ? boost::json::value(nullptr)
                                      : boost::json::value(static_cast<double>(r.successful) / static_cast<double>(r.total))},
        {"avg_response_time", static_cast<int64_t>(r.avg_response_time_ms + 0.5)}});
  }
  return JsonResponse(200, boost::json::object{{"window_hours", 24}, {"webhooks", std::move(out)}});
}

// Seed 001: failed attempts in the last hour, newest first.
Result<http::Response> RecentFailures(ApiContext& ctx, const http::Request& req, const Principal& who) {
  store::AttemptFilter f;
  ULAK_ASSIGN_OR_RETURN(f.organization_id, ResolveOrganization(who, req.GetQuery("organization_id"), "organization_id",
                                                               ctx.store));
  f.status = store::DeliveryStatus::kFailed;
  f.since = ctx.clock.Now() - std::chrono::hours(1);
  f.limit = 1000;
  ULAK_ASSIGN_OR_RETURN(std::vector<store::Attempt> attempts, ctx.store.ListAttempts(f));
  boost::json::array out;
  for (const auto& a : attempts) {
    out.push_back(boost::json::object{
        {"id", a.id},
        {"webhook_config_id", a.webhook_id},
        {"delivery_id", a.delivery_id},
        {"event_type", a.event_type},
        {"event_id", a.event_ref},
        {"request_url", a.request_url},
        {"response_status", a.response_status ? boost::json::value(*a.response_status) : boost::json::value(nullptr)},
        {"response_time_ms", a.response_time_ms},
        {"attempt_number", a.attempt_number},
        {"error_message", a.error_message},
        {"created_at", FormatRfc3339(a.created_at)}});
  }
  return JsonResponse(200, boost::json::object{{"window_hours", 1}, {"failures", std::move(out)}});
}

}  // namespace

void AddOperationRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  router.Add(Method::kGet, "/api/deliveries/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return GetDelivery(ctx, p, who); }));
  router.Add(Method::kPost, "/api/deliveries/{id}/retry",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return RetryDelivery(ctx, p, who); }));
  router.Add(Method::kPost, "/api/webhooks/{id}/recover",
             WithAuth(ctx, [&ctx](const auto& req, const auto& p, const auto& who) { return Recover(ctx, req, p, who); }));
  router.Add(Method::kPost, "/api/events/{id}/resend",
             WithAuth(ctx, [&ctx](const auto& req, const auto& p, const auto& who) { return Resend(ctx, req, p, who); }));
  router.Add(Method::kGet, "/api/jobs/{id}",
             WithAuth(ctx, [&ctx](const auto&, const auto& p, const auto& who) { return GetJob(ctx, p, who); }));
  router.Add(Method::kGet, "/api/monitoring/webhooks",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return WebhookHealth(ctx, req, who); }));
  router.Add(Method::kGet, "/api/monitoring/failures",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return RecentFailures(ctx, req, who); }));
}

}  // namespace ulak::api
