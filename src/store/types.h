// The records the store keeps. Plain values: no behaviour, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace ulak::store {

struct Organization {
  std::string id;
  std::string name;
  TimePoint created_at;
  // Days finished deliveries, their attempts and events, and incoming requests are kept;
  // unset: the server's retention_days; 0: forever.
  std::optional<int> retention_days = std::nullopt;
};

// An API key as stored: only the SHA-256 of the key, never the key itself.
struct ApiKey {
  std::string id;
  std::string organization_id;
  std::string key_hash;  // lowercase hex SHA-256 of the full key string
  std::string prefix;    // the first characters of the key, to tell keys apart in lists
  TimePoint created_at;
};

// Cursor pagination: items sorted by id (UUIDv7, so by creation time); `after` is the last
// id of the previous page.
struct PageRequest {
  int limit = 50;
  std::string after;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // empty when this is the last page
};

}  // namespace ulak::store

namespace ulak::store {

// A webhook endpoint (seed 001's webhook_configs). List-like fields are kept as JSON text:
// the store persists them, src/delivery and src/api give them meaning.
struct Webhook {
  std::string id;
  std::string organization_id;
  std::string name;
  std::string url;
  std::string secret_key;            // 64 hex characters
  std::string events_json;           // ["order.created", "order.*"]
  std::string custom_headers_json;   // {"X-API-Key": "..."}
  std::string retry_policy_json;     // {"kind":"fixed","delays_s":[60,300,1800]}
  bool is_active = true;
  bool retry_enabled = true;
  int max_retries = 3;
  int timeout_seconds = 30;
  int max_in_flight = 8;
  std::optional<TimePoint> last_triggered_at;
  TimePoint created_at;
  TimePoint updated_at;
  // Secret rotation with grace: the old secret keeps signing (a second signature) until then.
  std::string previous_secret_key;
  std::optional<TimePoint> previous_secret_expires_at;
  std::optional<int> rate_limit_per_s;  // token bucket; unset: unlimited
  bool disable_on_gone = false;          // a 410 answer disables the webhook at once
  std::string disabled_reason;
  std::optional<TimePoint> disabled_at;
  // The failure streak the auto-disable rule reads: consecutive failed deliveries and when
  // the first of them failed. Kept by the delivery engine.
  int consecutive_failures = 0;
  std::optional<TimePoint> first_failure_at;
  // Shaping (src/shape/); empty strings mean "not used", so a plain webhook keeps the
  // shared-body path.
  std::string template_json;        // {"name": "salesforce", "params": {...}}
  std::string template_auth_json;   // the template's credentials; sealed at rest (EncryptingStore)
  std::string filter_json;          // {"data.status": "pending"}
  std::string fields_json;          // ["id", "items[].name"]
  std::string transform_lua;        // defines function transform(webhook)
  // Asymmetric signatures (Standard Webhooks "v1a"): "hmac" (default: v1 HMAC only) or
  // "ed25519". The Ed25519 keys are "whsk_<base64 of seed || public key>" (64 bytes, as Svix
  // writes them), sealed at rest (EncryptingStore); the previous one signs too until
  // previous_secret_expires_at, like previous_secret_key.
  std::string signature_scheme = "hmac";
  std::string signing_key;
  std::string previous_signing_key;
  // Ordered (FIFO) delivery: one delivery at a time, in publish order; the next waits until
  // the previous one succeeded or finally failed.
  bool ordered = false;
  // Endpoint health, written only by the delivery engine with its attempts (RecordOutcomes);
  // UpdateWebhook leaves it alone.
  std::optional<TimePoint> last_success_at;
  std::optional<TimePoint> last_failure_at;
  struct Breaker {
    int streak = 0;                         // consecutive tries with no response at all
    std::chrono::milliseconds cooldown{0};  // nonzero: open, one probe per cooldown
    std::optional<TimePoint> paused_until;  // no sends before it
  } breaker;
};

// What an application published, with the exact body every delivery of it sends.
struct Event {
  std::string id;
  std::string organization_id;
  std::string event_type;
  std::string event_id;  // the producer's id or Idempotency-Key; empty when none was given
  std::string payload;   // the rendered body, signed and sent byte for byte
  int deliveries = 0;
  TimePoint created_at;
};

// kSkipped: final, a webhook's transform returned nil for it (nothing was sent).
enum class DeliveryStatus { kPending, kRetrying, kSuccess, kFailed, kCancelled, kSkipped };
std::string_view DeliveryStatusName(DeliveryStatus s);
std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view s);

// One event to one webhook. Its id is the Standard Webhooks `webhook-id`, stable across tries.
struct Delivery {
  std::string id;
  std::string event_id;  // Event::id
  std::string webhook_id;
  std::string organization_id;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  TimePoint next_attempt_at;
  TimePoint created_at;
  // Shared work (several nodes): the node holding the delivery and until when.
  std::string claimed_by;
  std::optional<TimePoint> lease_until;
};

// A delivery that still has to be tried, with what sending it needs.
struct PendingDelivery {
  Delivery delivery;
  std::string event_type;
  std::string event_ref;  // the producer's event_id, else the event's own id
  // The event's body, shared by all its deliveries: a fan-out to ten webhooks or a large
  // backlog holds each body once, not once per delivery.
  std::shared_ptr<const std::string> payload;
  TimePoint event_created_at;
};

// One try of one delivery (seed 001's webhook_logs row).
struct Attempt {
  std::string id;
  std::string delivery_id;
  std::string organization_id;
  std::string webhook_id;
  std::string event_type;
  std::string event_ref;
  std::string request_url;
  std::string request_method = "POST";
  // The body sent. Stored per attempt only when it is not the event's payload (a shaped
  // try); left empty by plain tries and then read back from the event.
  std::string request_body;
  std::string request_signature;
  std::optional<int> response_status;
  std::string response_body;
  int64_t response_time_ms = 0;
  DeliveryStatus status = DeliveryStatus::kFailed;  // success | retrying | failed
  int attempt_number = 1;
  std::string error_message;
  std::optional<TimePoint> delivered_at;
  std::optional<TimePoint> next_retry_at;
  TimePoint created_at;
};

enum class IncomingStatus { kAccepted, kDuplicate, kRejected };
std::string_view IncomingStatusName(IncomingStatus s);
std::optional<IncomingStatus> ParseIncomingStatus(std::string_view s);

// One received request (the incoming log).
struct IncomingRequest {
  std::string id;
  std::string source_id;
  std::string organization_id;
  IncomingStatus status = IncomingStatus::kAccepted;
  std::string provider_event_id;
  std::string event_type;
  std::string event_id;  // the ulak event id, set by Publish for accepted and duplicate
  std::string body;
  std::string headers_json;
  std::string reason;
  TimePoint created_at;
};

// A publish: the event and one delivery per matching webhook.
struct PublishRequest {
  Event event;
  std::vector<Delivery> deliveries;
  // For a verified incoming webhook: the request, stored in the same transaction as
  // "accepted", or as "duplicate" when the event was published before.
  std::optional<IncomingRequest> incoming;
};

struct PublishResult {
  Event event;  // the stored event: the earlier one when this was a repeat
  bool duplicate = false;
  std::vector<Delivery> deliveries;  // created now; empty for a repeat
  int filtered = 0;  // subscribed webhooks whose filter the event did not match (set by the publisher)
};

// The result of one try: the attempt log row and the delivery's new state.
struct AttemptOutcome {
  Attempt attempt;
  DeliveryStatus delivery_status;
  int attempts;
  TimePoint next_attempt_at;
  // For a retry under a lease (several nodes): the new lease end, so the node keeps the
  // delivery until its next try. A finished delivery always releases its claim.
  std::optional<TimePoint> lease_until;
  // Set when the delivery ended (success or failed): the webhook's failure streak after it.
  std::optional<int> consecutive_failures;
  std::optional<TimePoint> first_failure_at;
  // For a queued try: the webhook's circuit breaker after it, stored with the attempt.
  std::optional<Webhook::Breaker> breaker = std::nullopt;
};

// An attempt outcome the store rejected on every try, parked by the StoreWriter so it stops
// retrying it (its attempt row was never written).
struct DeadOutcome {
  AttemptOutcome outcome;
  std::string error;  // the store's last error for it
  int tries = 0;
  TimePoint created_at;  // when it was parked
};

// A background job (e.g. re-sending a webhook's failed deliveries), with its progress.
struct Job {
  std::string id;
  std::string organization_id;
  std::string kind;
  std::string status;  // running | completed | failed
  std::string params_json;
  int64_t total = 0;
  int64_t done = 0;
  std::string error;
  TimePoint created_at;
  TimePoint updated_at;
};

// Seed 001's monitoring query: one row per webhook over a window.
struct WebhookHealth {
  std::string webhook_id;
  std::string name;
  int64_t total = 0;
  int64_t successful = 0;
  double avg_response_time_ms = 0;
};

// Retention (store.h, PruneBatch): which rows one batch deletes.
enum class PruneKind {
  kDeliveries,  // finished deliveries last changed before `before`, with their attempts
  kEvents,      // events created before `before` that no delivery refers to any more
  kIncoming,    // incoming requests received before `before`
};

struct PruneRequest {
  std::string organization_id;
  PruneKind kind = PruneKind::kDeliveries;
  TimePoint before;
  int limit = 1000;
  // kEvents: the last event a previous batch of the same run looked at (kept because a
  // delivery still refers to it); the batch continues after it. Empty: from the oldest.
  std::string after_event;
  TimePoint after_event_created_at;
};

struct PruneResult {
  int64_t rows = 0;      // deliveries, events or incoming requests deleted
  int64_t attempts = 0;  // kDeliveries: their attempts deleted with them
  int64_t examined = 0;  // rows looked at; fewer than the limit: nothing older is left
  std::string last_event;  // kEvents: where the next batch continues
  TimePoint last_event_created_at;
  bool busy = false;     // another node is cleaning (PostgreSQL advisory lock): nothing done
};

// What a prune would delete now (ulak prune --dry-run).
struct PruneCounts {
  int64_t deliveries = 0;
  int64_t attempts = 0;
  int64_t events = 0;
  int64_t incoming = 0;
};

struct AttemptFilter {
  std::string organization_id;
  std::optional<DeliveryStatus> status;
  std::string webhook_id;
  std::string event_type;
  std::optional<TimePoint> since;
  std::string delivery_id;
  int limit = 50;
  std::string before;  // attempt id cursor: only attempts older than it
};

struct AttemptStats {
  int64_t total = 0;
  int64_t success = 0;
  int64_t failed = 0;
  int64_t retrying = 0;
  double avg_response_time_ms = 0;
};

struct AttemptLog {
  std::vector<Attempt> attempts;
  AttemptStats stats;
};

}  // namespace ulak::store

namespace ulak::store {

// An incoming endpoint for one provider. JSON fields are given meaning by src/incoming.
struct Source {
  std::string id;
  std::string organization_id;
  std::string name;
  std::string provider;
  std::string secrets_json;  // ["whsec_..."]
  std::string options_json;
  std::string event_map_json;
  bool default_for_provider = false;
  bool is_active = true;
  int64_t rejected_count = 0;
  TimePoint created_at;
  TimePoint updated_at;
};

struct IncomingFilter {
  std::string organization_id;
  std::string source_id;
  std::optional<IncomingStatus> status;
  int limit = 50;
  std::string before;  // id cursor: only older requests
};

}  // namespace ulak::store
