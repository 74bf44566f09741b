#include "api/events.h"

#include <boost/json/parse.hpp>

#include "api/errors.h"
#include "api/handler.h"
#include "api/json_io.h"
#include "api/webhook_input.h"
#include "delivery/publisher.h"
#include "shape/json_number.h"

namespace ulak::api {
namespace {

constexpr size_t kMaxEventIdLength = 255;

boost::json::object EventJson(const store::Event& e) {
  return {{"id", e.id},
          {"organization_id", e.organization_id},
          {"event", e.event_type},
          {"event_id", e.event_id.empty() ? boost::json::value(nullptr) : boost::json::value(e.event_id)},
          {"created_at", FormatRfc3339(e.created_at)}};
}

// True when a stored event was published from the same request as this one: same type, data
// and metadata (key order aside). Stripe's rule: a key reused with another body is an error.
// `request` is the publish body as parsed (already validated: "event" a string, "data" an object).
bool SameRequest(const store::Event& stored, const boost::json::object& request) {
  if (stored.event_type != request.at("event").as_string()) return false;
  const boost::json::value& data = request.at("data");
  const boost::json::value* given_metadata = request.if_contains("metadata");
  const boost::json::value metadata = given_metadata != nullptr ? *given_metadata : boost::json::value();
  boost::system::error_code ec;
  boost::json::value payload = boost::json::parse(stored.payload, ec);
  if (ec || !payload.is_object()) return false;
  const boost::json::value* stored_data = payload.as_object().if_contains("data");
  const boost::json::value* stored_metadata = payload.as_object().if_contains("metadata");
  const boost::json::value empty = boost::json::object();
  return stored_data != nullptr && *stored_data == data &&
         (stored_metadata != nullptr ? *stored_metadata : empty) == (metadata.is_null() ? empty : metadata);
}

Status PublishEvent(ApiContext& ctx, http::Request&& request, const Principal& principal, http::Reply reply) {
  ULAK_ASSIGN_OR_RETURN(boost::json::object body, ParseJsonObject(request.body));
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> org_field, OptionalString(body, "organization_id", 64));
  ULAK_ASSIGN_OR_RETURN(std::string event_type, RequireString(body, "event", 200));
  if (!ValidEventType(event_type, false)) {
    return InvalidArgument("event must be a type such as \"order.created\": dot-separated letters, digits, _, - or :.")
        .WithField("event");
  }
  const boost::json::value* data = body.if_contains("data");
  if (data == nullptr) return InvalidArgument("data is required.").WithField("data");
  if (!data->is_object()) return InvalidArgument("data must be a JSON object.").WithField("data");
  const boost::json::value* metadata = body.if_contains("metadata");
  if (metadata != nullptr && !metadata->is_null() && !metadata->is_object()) {
    return InvalidArgument("metadata must be a JSON object.").WithField("metadata");
  }
  // Numbers outside a double's range are refused by path; digits a double cannot hold are kept.
  ULAK_ASSIGN_OR_RETURN(shape::NumberDigits digits, shape::ScanNumbers(request.body));
  ULAK_ASSIGN_OR_RETURN(std::optional<std::string> event_id, OptionalString(body, "event_id", kMaxEventIdLength));
  if (!event_id) {
    if (auto key = request.GetHeader("Idempotency-Key"); key && !key->empty()) {
      if (key->size() > kMaxEventIdLength) {
        return InvalidArgument("The Idempotency-Key header must be at most 255 characters.").WithField("Idempotency-Key");
      }
      // It becomes the event's event_id, shown in JSON (found by fuzz_api: raw bytes made it invalid).
      if (!IsUtf8(*key)) {
        return InvalidArgument("The Idempotency-Key header must be UTF-8 text.").WithField("Idempotency-Key");
      }
      event_id = std::string(*key);
    }
  }
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, org_field, "organization_id", ctx.store));
  if (ctx.publisher == nullptr) return Unavailable("The delivery engine is not running.");

  delivery::PublishInput input;
  input.organization_id = std::move(org_id);
  input.event_type = std::move(event_type);
  input.event_id = event_id.value_or("");
  if (event_id) {  // a replay of the key is compared with this body (SameRequest): copies
    input.data = *data;
    input.metadata = metadata != nullptr ? *metadata : boost::json::value(boost::json::object());
  } else {  // no key, no replay: the body's data and metadata are moved, not copied
    input.data = std::move(body.at("data"));
    input.metadata = metadata != nullptr ? std::move(body.at("metadata")) : boost::json::value(boost::json::object());
  }
  input.digits = std::move(digits);
  // The parsed request stays with the answer (a move, no copy): only a replayed key compares it.
  ctx.publisher->Publish(std::move(input), [reply, sent = std::move(body)](Result<store::PublishResult>&& result) {
    if (!result.ok()) {
      reply(ErrorFromStatus(result.status()));
      return;
    }
    if (result->duplicate && !SameRequest(result->event, sent)) {
      reply(http::ErrorResponse(409, "idempotency_conflict",
                                "This idempotency key (event_id) was used by event " + result->event.id +
                                    " with a different event, data or metadata; use a new key for a new event."));
      return;
    }
    http::Response r = JsonResponse(202, boost::json::object{{"event", EventJson(result->event)},
                                                             {"deliveries", result->event.deliveries},
                                                             {"filtered", result->filtered}});
    if (result->duplicate) r.SetHeader("Idempotent-Replayed", "true");
    reply(std::move(r));
  });
  return Status::Ok();
}

}  // namespace

void AddEventRoutes(ApiContext& ctx, http::Router& router) {
  router.Add(http::Method::kPost, "/api/events",
             WithAuthAsync(ctx, [&ctx](http::Request&& req, const auto&, const auto& who, http::Reply reply) {
               return PublishEvent(ctx, std::move(req), who, std::move(reply));
             }));
}

}  // namespace ulak::api
