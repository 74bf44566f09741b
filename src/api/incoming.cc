#include "api/incoming.h"

#include <strings.h>

#include <boost/json/array.hpp>

#include "api/errors.h"
#include "api/handler.h"
#include "api/json_io.h"
#include "api/source_cache.h"
#include "api/webhook_input.h"
#include "api/pagination.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "delivery/publisher.h"
#include "incoming/event_map.h"
#include "incoming/verifier.h"
#include "shape/json_number.h"

namespace ulak::api {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The headers worth keeping with a request: provider ids, types and signatures (they are
// not secrets), never credentials, cookies or a shared-secret header.
std::string HeadersThatMatter(const incoming::Headers& headers, const incoming::SourceOptions& options) {
  boost::json::object out;
  for (const auto& [name, value] : headers) {
    if (IEquals(name, "authorization") || IEquals(name, "cookie") || IEquals(name, options.secret_header)) continue;
    const bool keep = IEquals(name, "content-type") || IEquals(name, "user-agent") ||
                      strncasecmp(name.c_str(), "x-", 2) == 0 || strncasecmp(name.c_str(), "webhook-", 8) == 0 ||
                      strncasecmp(name.c_str(), "stripe-", 7) == 0;
    if (keep) out[name] = value;
  }
  return shape::SerializeJson(out);
}

// Seed 000 answers a bad Stripe signature with 400; App Store likewise. Other senders get 401.
int RejectionStatus(incoming::Provider provider) {
  return provider == incoming::Provider::kStripe || provider == incoming::Provider::kApple ? 400 : 401;
}

// Text that came from a sender, made safe to store and show: control characters (NUL
// cannot go into a PostgreSQL TEXT) escaped as JSON escapes them, bytes that are not UTF-8
// replaced by U+FFFD (JSON answers show it), at most 200 bytes.
std::string Printable(std::string_view text) {
  std::string quoted = shape::SerializeJson(boost::json::string(ToUtf8(text.substr(0, 200))));
  return quoted.substr(1, quoted.size() - 2);
}

// Logs and stores a rejected request (without its body), then answers it.
void Reject(ApiContext& ctx, store::IncomingRequest& row, const store::Source& source, std::string reason, int status,
            std::string_view code, const http::Reply& reply) {
  row.status = store::IncomingStatus::kRejected;
  row.body.clear();
  Metrics::Instance().CountIncoming(Metrics::IncomingResult::kRejected);
  row.reason = std::move(reason);
  Log(LogLevel::kWarn, "incoming request rejected",
      {{"source_id", source.id}, {"provider", source.provider}, {"reason", row.reason}});
  if (Status s = ctx.store.RecordRejected(row); !s.ok()) {
    Log(LogLevel::kError, "cannot record a rejected request", {{"error", s.message()}});
  }
  reply(http::ErrorResponse(status, std::string(code), row.reason));
}

void Receive(ApiContext& ctx, const ParsedSource& parsed, http::Request&& request, const http::Reply& reply) {
  const store::Source& source = parsed.record;
  if (!source.is_active) {
    reply(http::ErrorResponse(404, "not_found", "This source is not active."));
    return;
  }
  const incoming::Provider* provider = &parsed.provider;
  const incoming::SourceOptions* options = &parsed.options;
  const std::vector<std::string>& secrets = parsed.secrets;
  incoming::Headers headers;
  headers.reserve(request.headers.size());
  for (auto& h : request.headers) headers.emplace_back(std::move(h.name), std::move(h.value));

  store::IncomingRequest row;
  row.id = NewId(ctx.clock, ctx.random);
  row.source_id = source.id;
  row.organization_id = source.organization_id;
  row.headers_json = HeadersThatMatter(headers, *options);
  row.created_at = ctx.clock.Now();

  Result<incoming::VerifiedEvent> verified =
      incoming::Verify(*provider, {request.body, headers, secrets, *options, ctx.clock.Now()});
  if (!verified.ok()) {
    row.status = store::IncomingStatus::kRejected;
    Metrics::Instance().CountIncoming(Metrics::IncomingResult::kRejected);
    row.reason = verified.status().message();
    Log(LogLevel::kWarn, "incoming request rejected",
        {{"source_id", source.id}, {"provider", source.provider}, {"reason", row.reason}});
    if (Status s = ctx.store.RecordRejected(row); !s.ok()) {
      Log(LogLevel::kError, "cannot record a rejected request", {{"error", s.message()}});
    }
    const bool malformed = verified.status().code() == ErrorCode::kMalformed;
    reply(http::ErrorResponse(malformed ? 400 : RejectionStatus(*provider),
                              malformed ? "invalid_payload" : "invalid_signature", row.reason));
    return;
  }

  // As for POST /api/events: a number outside a double's range is refused by its path, and
  // digits a double cannot hold are delivered as the provider sent them. (A body that is not
  // JSON, such as Apple's signed payload, has its numbers checked when written.)
  shape::NumberDigits digits;
  if (Result<shape::NumberDigits> scanned = shape::ScanNumbers(request.body); scanned.ok()) {
    digits = std::move(scanned).value();
  } else if (scanned.status().code() == ErrorCode::kInvalidArgument) {
    Log(LogLevel::kWarn, "incoming request refused: a number is out of range",
        {{"source_id", source.id}, {"reason", scanned.status().message()}});
    reply(ErrorFromStatus(scanned.status()));
    return;
  }
  const std::vector<incoming::EventMapRule>& rules = parsed.rules;
  row.provider_event_id = verified->provider_event_id;
  row.event_type = verified->event_type;

  delivery::PublishInput input;
  input.organization_id = source.organization_id;
  input.event_type = incoming::MapEventType(rules, source.provider, verified->event_type);
  // The sender chose this type: it passes the same check as POST /api/events, or the
  // request is rejected (never an event type the API itself would refuse).
  if (!ValidEventType(input.event_type, false)) {
    row.provider_event_id = Printable(row.provider_event_id);
    row.event_type = Printable(row.event_type);
    Reject(ctx, row, source,
           "The event type \"" + Printable(input.event_type) +
               "\" is not valid: it must be dot-separated letters, digits, _, -, : or / (at most 200 characters); "
               "map the provider's type to a valid one with the source's event_map.",
           400, "invalid_event_type", reply);
    return;
  }
  // A provider's event id from a header (webhook-id, X-GitHub-Delivery, an hmac source's
  // id_header...) may carry any bytes; it becomes the event's event_id, shown in JSON.
  if (!IsUtf8(verified->provider_event_id)) {
    row.provider_event_id = Printable(row.provider_event_id);
    row.event_type = Printable(row.event_type);
    Reject(ctx, row, source, "The provider's event id is not UTF-8 text.", 400, "invalid_payload", reply);
    return;
  }
  row.body = std::move(request.body);
  input.event_id = verified->provider_event_id;
  input.data = std::move(verified->data);
  input.metadata = boost::json::object{{"source_id", source.id},
                                       {"provider", source.provider},
                                       {"provider_event_type", verified->event_type},
                                       {"provider_event_id", verified->provider_event_id}};
  input.digits = std::move(digits);
  input.incoming = std::move(row);
  if (ctx.publisher == nullptr) {
    reply(ErrorFromStatus(Unavailable("The delivery engine is not running.")));
    return;
  }
  ctx.publisher->Publish(std::move(input), [reply](Result<store::PublishResult>&& result) {
    if (!result.ok()) {
      reply(ErrorFromStatus(result.status()));
      return;
    }
    Metrics::Instance().CountIncoming(result->duplicate ? Metrics::IncomingResult::kDuplicate
                                                        : Metrics::IncomingResult::kAccepted);
    reply(JsonResponse(200, boost::json::object{{"received", true},
                                                {"duplicate", result->duplicate},
                                                {"event_id", result->event.id},
                                                {"event", result->event.event_type}}));
  });
}

http::RouteHandler ReceiveForSource(ApiContext& ctx) {
  return [&ctx](http::Request&& request, const http::PathParams& params, http::Reply reply) {
    if (ctx.sources == nullptr) {
      reply(ErrorFromStatus(Unavailable("Incoming webhooks are not set up on this server.")));
      return;
    }
    Result<std::shared_ptr<const ParsedSource>> source = ctx.sources->Get(params.Get("source_id"));
    if (!source.ok()) {
      reply(ErrorFromStatus(source.status()));
      return;
    }
    Receive(ctx, **source, std::move(request), reply);
  };
}

http::RouteHandler ReceiveForDefault(ApiContext& ctx, std::string provider) {
  return [&ctx, provider](http::Request&& request, const http::PathParams&, http::Reply reply) {
    if (ctx.sources == nullptr) {
      reply(ErrorFromStatus(Unavailable("Incoming webhooks are not set up on this server.")));
      return;
    }
    Result<std::shared_ptr<const ParsedSource>> source = ctx.sources->GetDefault(provider);
    if (!source.ok()) {
      reply(ErrorFromStatus(source.status()));
      return;
    }
    Receive(ctx, **source, std::move(request), reply);
  };
}

// /api/webhooks/{provider}/{organization_id}: every organization's own provider path, beside
// the server's one default (/api/webhooks/{provider}).
http::RouteHandler ReceiveForOrganization(ApiContext& ctx, std::string provider) {
  return [&ctx, provider](http::Request&& request, const http::PathParams& params, http::Reply reply) {
    if (ctx.sources == nullptr) {
      reply(ErrorFromStatus(Unavailable("Incoming webhooks are not set up on this server.")));
      return;
    }
    Result<std::shared_ptr<const ParsedSource>> source =
        ctx.sources->GetForOrganization(provider, std::string(params.Get("organization_id")));
    if (!source.ok()) {
      reply(ErrorFromStatus(source.status()));
      return;
    }
    Receive(ctx, **source, std::move(request), reply);
  };
}

boost::json::object IncomingJson(const store::IncomingRequest& r) {
  return {{"id", r.id},
          {"source_id", r.source_id},
          {"organization_id", r.organization_id},
          {"status", store::IncomingStatusName(r.status)},
          {"provider_event_id", r.provider_event_id},
          {"provider_event_type", r.event_type},
          {"event_id", r.event_id.empty() ? boost::json::value(nullptr) : boost::json::value(r.event_id)},
          {"reason", r.reason.empty() ? boost::json::value(nullptr) : boost::json::value(r.reason)},
          {"headers", ParseJsonOr(r.headers_json, boost::json::object())},
          {"body", r.body},
          {"created_at", FormatRfc3339(r.created_at)}};
}

Result<http::Response> ListIncoming(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  store::IncomingFilter f;
  std::optional<std::string> org;
  if (auto q = request.GetQuery("organization_id")) org = std::string(*q);
  if (auto source_id = request.GetQuery("source_id"); source_id && !source_id->empty()) {
    ULAK_ASSIGN_OR_RETURN(store::Source s,
                          ctx.store.GetSource(principal.is_admin ? "" : principal.organization_id, *source_id));
    f.source_id = s.id;
    if (!org) org = s.organization_id;  // the admin names the source, not its organization
  }
  ULAK_ASSIGN_OR_RETURN(f.organization_id, ResolveOrganization(principal, org, "organization_id", ctx.store));
  if (auto status = request.GetQuery("status"); status && !status->empty()) {
    f.status = store::ParseIncomingStatus(*status);
    if (!f.status) return InvalidArgument("status must be accepted, rejected or duplicate.").WithField("status");
  }
  ULAK_ASSIGN_OR_RETURN(f.limit, ParseLimit(request, 50, 1000));
  ULAK_ASSIGN_OR_RETURN(f.before, ParseCursor(request));
  const int limit = f.limit;
  f.limit = limit + 1;
  ULAK_ASSIGN_OR_RETURN(std::vector<store::IncomingRequest> rows, ctx.store.ListIncoming(f));
  std::string next_cursor;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(limit);
    next_cursor = rows.back().id;
  }
  boost::json::array items;
  for (const auto& r : rows) items.push_back(IncomingJson(r));
  boost::json::object out{{"requests", std::move(items)}};
  out["next_cursor"] = next_cursor.empty() ? boost::json::value(nullptr) : boost::json::value(next_cursor);
  out["has_more"] = !next_cursor.empty();
  return JsonResponse(200, out);
}

}  // namespace

void AddIncomingRoutes(ApiContext& ctx, http::Router& router) {
  using http::Method;
  router.Add(Method::kPost, "/api/webhooks/stripe", ReceiveForDefault(ctx, "stripe"));
  router.Add(Method::kPost, "/api/webhooks/apple", ReceiveForDefault(ctx, "apple"));
  router.Add(Method::kPost, "/api/webhooks/stripe/{organization_id}", ReceiveForOrganization(ctx, "stripe"));
  router.Add(Method::kPost, "/api/webhooks/apple/{organization_id}", ReceiveForOrganization(ctx, "apple"));
  router.Add(Method::kGet, "/api/incoming/logs",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) { return ListIncoming(ctx, req, who); }));
  router.Add(Method::kPost, "/api/incoming/{source_id}", ReceiveForSource(ctx));
}

}  // namespace ulak::api
