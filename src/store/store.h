// Store: the one interface to durable state. Two implementations (SQLite now, PostgreSQL
// later) pass the same conformance suite (tests/store/conformance_test.cc).
//
// Contract for every method: thread-safe; returns kUnavailable when the database cannot be
// reached (the caller may retry), kAlreadyExists on a uniqueness conflict, kNotFound when
// the object named does not exist. A failed call changes nothing.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/types.h"
#include "store/ui_types.h"

namespace ulak::store {

class Store {
 public:
  virtual ~Store() = default;

  // Applies every migration not yet applied. Safe to call on every start.
  virtual Status Migrate() = 0;
  // The highest applied migration version, 0 for an empty database.
  virtual Result<int> SchemaVersion() = 0;
  // Cheap round trip to the database, for /readyz.
  virtual Status Ping() = 0;

  // --- settings: small named values owned by the server (e.g. the admin key's hash) ---
  virtual Result<std::optional<std::string>> GetSetting(std::string_view name) = 0;
  // Stores value under name unless name is already set; returns the value now stored.
  virtual Result<std::string> PutSettingIfAbsent(std::string_view name, std::string_view value) = 0;

  // --- organizations and their API keys ---
  // Creates the organization and its first key atomically.
  virtual Status CreateOrganization(const Organization& org, const ApiKey& first_key) = 0;
  virtual Result<Organization> GetOrganization(std::string_view id) = 0;
  virtual Result<Page<Organization>> ListOrganizations(const PageRequest& page) = 0;

  virtual Status CreateApiKey(const ApiKey& key) = 0;
  virtual Result<Page<ApiKey>> ListApiKeys(std::string_view organization_id, const PageRequest& page) = 0;
  // kNotFound unless the key exists and belongs to organization_id.
  virtual Status DeleteApiKey(std::string_view organization_id, std::string_view key_id) = 0;
  virtual Result<ApiKey> FindApiKeyByHash(std::string_view key_hash) = 0;

  // --- webhooks ---
  virtual Status CreateWebhook(const Webhook& webhook) = 0;
  // kNotFound unless it exists, is not deleted, and belongs to organization_id (empty
  // organization_id: any organization, for the delivery engine).
  virtual Result<Webhook> GetWebhook(std::string_view organization_id, std::string_view id) = 0;
  virtual Result<Page<Webhook>> ListWebhooks(std::string_view organization_id, const PageRequest& page) = 0;
  // Every active, not deleted webhook of the organization: the candidates for a publish.
  virtual Result<std::vector<Webhook>> ListActiveWebhooks(std::string_view organization_id) = 0;
  // Replaces every field but id, organization_id and created_at.
  virtual Status UpdateWebhook(const Webhook& webhook) = 0;
  // Marks the webhook deleted (its attempt logs stay) and cancels its pending deliveries.
  virtual Status DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) = 0;

  // --- events and deliveries ---
  // Stores every request in one transaction (one fsync: group commit). A request whose
  // (organization_id, event_id) was stored before yields the earlier event, duplicate=true,
  // and stores nothing. Results are in request order.
  virtual Result<std::vector<PublishResult>> Publish(const std::vector<PublishRequest>& requests) = 0;
  // Records attempts and the new delivery states in one transaction; also sets the
  // webhooks' last_triggered_at. May return before they survive a power cut (never before
  // they survive the process being killed): one lost that way leaves its delivery pending,
  // so it is tried again (at-least-once).
  virtual Status RecordOutcomes(const std::vector<AttemptOutcome>& outcomes) = 0;
  // Both of the above in one transaction (one fsync): the group commit of a writer round.
  // On error nothing of either is stored (the default body, for wrappers and fakes only,
  // cannot promise that: a real store overrides it). Outcomes are idempotent: an attempt id
  // already stored is skipped with its delivery update, so a batch retried after a commit
  // that reported failure succeeds and writes no row twice.
  virtual Result<std::vector<PublishResult>> CommitBatch(const std::vector<PublishRequest>& publishes,
                                                         const std::vector<AttemptOutcome>& outcomes);
  // Parks an outcome the store keeps rejecting (the writer's dead letters). Idempotent: the
  // same attempt parked twice is stored once.
  virtual Status RecordDeadOutcome(const DeadOutcome& dead) = 0;
  // The parked outcomes, oldest first, at most `limit`.
  virtual Result<std::vector<DeadOutcome>> ListDeadOutcomes(int limit) = 0;
  // Deliveries still pending or retrying, ordered by id, after `after`; for recovery at start.
  virtual Result<std::vector<PendingDelivery>> ListPendingDeliveries(std::string_view after, int limit) = 0;
  // A webhook's deliveries still pending or retrying, ordered by (next_attempt_at, id), those
  // after the cursor only: next_attempt_at later than `from`, or equal to it with an id
  // greater than `after_id` ("" for every id at `from`). The delivery engine pages a
  // webhook's backlog in with it (index deliveries_open_by_webhook_due, migration 0014).
  virtual Result<std::vector<PendingDelivery>> ListDueDeliveriesForWebhook(std::string_view webhook_id,
                                                                           TimePoint from, std::string_view after_id,
                                                                           int limit) = 0;
  // Cancels pending/retrying deliveries of a webhook (e.g. it was disabled); returns how many.
  virtual Result<int64_t> CancelPendingDeliveries(std::string_view webhook_id) = 0;
  // Scoped like GetWebhook: empty organization_id means any organization.
  virtual Result<Event> GetEvent(std::string_view organization_id, std::string_view id) = 0;

  // --- shared work: several nodes on one database ---
  // True when other nodes may work on the same database (PostgreSQL): deliveries are then
  // claimed with leases instead of all being loaded at start.
  virtual bool SharesWork() const { return false; }
  // Claims up to `limit` due deliveries that no live lease holds (FOR UPDATE SKIP LOCKED on
  // PostgreSQL): no two nodes ever get the same delivery while its lease runs.
  virtual Result<std::vector<PendingDelivery>> ClaimDueDeliveries(std::string_view node_id, TimePoint now,
                                                                  TimePoint lease_until, int limit) = 0;
  // Extends the lease of every open delivery the node holds; returns how many.
  virtual Result<int64_t> RenewLeases(std::string_view node_id, TimePoint lease_until) = 0;
  // Blocks until another node announces new work or the timeout passes (true: announced).
  // Stores without notifications just wait.
  virtual bool WaitForWork(std::chrono::milliseconds timeout);

  // --- delivery operations ---
  // A delivery of the organization (any when empty) with what sending it needs.
  virtual Result<PendingDelivery> GetDelivery(std::string_view organization_id, std::string_view id) = 0;
  // Makes a finished delivery pending again, due at `now` (manual retry and recover), held by
  // `claimed_by` until lease_until when given (shared work). kAlreadyExists when it is already
  // pending or retrying, so of two concurrent requeues exactly one wins.
  virtual Status RequeueDelivery(std::string_view id, TimePoint now, std::string_view claimed_by = "",
                                 std::optional<TimePoint> lease_until = std::nullopt) = 0;
  // Failed deliveries of a webhook whose last change is at or after `since`, by id after `after`.
  virtual Result<std::vector<PendingDelivery>> ListFailedDeliveries(std::string_view webhook_id, TimePoint since,
                                                                    std::string_view after, int limit) = 0;
  // A new delivery of an existing event (resend to one webhook).
  virtual Status CreateDelivery(const Delivery& delivery) = 0;
  // Disables a webhook with a reason, cancels its pending deliveries.
  virtual Status DisableWebhook(std::string_view id, std::string_view reason, TimePoint now) = 0;
  virtual Status CreateJob(const Job& job) = 0;
  virtual Status UpdateJob(const Job& job) = 0;
  virtual Result<Job> GetJob(std::string_view organization_id, std::string_view id) = 0;
  // Seed 001's monitoring: per webhook of the organization, attempts since `since`.
  virtual Result<std::vector<WebhookHealth>> GetWebhookHealth(std::string_view organization_id, TimePoint since) = 0;

  // --- incoming sources and their request log ---
  virtual Status CreateSource(const Source& source) = 0;
  // Scoped like GetWebhook: empty organization_id means any organization.
  virtual Result<Source> GetSource(std::string_view organization_id, std::string_view id) = 0;
  // The active source marked default_for_provider for the provider (seed 000's paths).
  virtual Result<Source> GetDefaultSource(std::string_view provider) = 0;
  virtual Result<Page<Source>> ListSources(std::string_view organization_id, const PageRequest& page) = 0;
  // Every source of the organization (or of all when empty), deleted ones excluded.
  virtual Result<std::vector<Source>> ListAllSources(std::string_view organization_id) = 0;
  virtual Status UpdateSource(const Source& source) = 0;
  virtual Status DeleteSource(std::string_view organization_id, std::string_view id, TimePoint now) = 0;
  // Counts a rejected request and logs it (without its body).
  virtual Status RecordRejected(const IncomingRequest& request) = 0;
  virtual Result<std::vector<IncomingRequest>> ListIncoming(const IncomingFilter& filter) = 0;
  // Every webhook of the organization (or of all when empty), deleted ones excluded, oldest first.
  virtual Result<std::vector<Webhook>> ListAllWebhooks(std::string_view organization_id) = 0;

  // --- attempt logs ---
  // Newest first.
  virtual Result<std::vector<Attempt>> ListAttempts(const AttemptFilter& filter) = 0;
  // Over the same filter, ignoring limit and cursor.
  virtual Result<AttemptStats> GetAttemptStats(const AttemptFilter& filter) = 0;
  // Both of the above from one consistent snapshot.
  virtual Result<AttemptLog> ListAttemptsWithStats(const AttemptFilter& filter) = 0;

  // --- web UI: delivery charts, tenant portal revocation, request inboxes ---
  // Buckets with at least one attempt, oldest first, computed in the database.
  virtual Result<std::vector<DeliveryBucket>> GetDeliveryBuckets(const DeliveryBucketFilter& filter) = 0;
  // The organization's portal token generation: 0 until RevokePortalTokens first runs.
  virtual Result<int64_t> GetPortalGeneration(std::string_view organization_id) = 0;
  // Increments the generation (invalidating every token signed with an older one); returns it.
  virtual Result<int64_t> RevokePortalTokens(std::string_view organization_id) = 0;
  virtual Status CreateInbox(const Inbox& inbox) = 0;
  // Scoped like GetWebhook: empty organization_id means any organization.
  virtual Result<Inbox> GetInbox(std::string_view organization_id, std::string_view id) = 0;
  // Newest first.
  virtual Result<std::vector<Inbox>> ListInboxes(std::string_view organization_id) = 0;
  // Replaces name and response_status.
  virtual Status UpdateInbox(const Inbox& inbox) = 0;
  virtual Status DeleteInbox(std::string_view organization_id, std::string_view id) = 0;
  // Stores the request, then drops the inbox's requests received before keep_since and all
  // but its keep_max newest, in one transaction.
  virtual Status RecordInboxRequest(const InboxRequest& request, int keep_max, TimePoint keep_since) = 0;
  // Newest first, received at or after since.
  virtual Result<std::vector<InboxRequest>> ListInboxRequests(std::string_view inbox_id, TimePoint since,
                                                              int limit) = 0;
  // --- retention (src/delivery/retention.h drives these) ---
  // Sets or clears (nullopt: the server's setting) the organization's retention_days.
  virtual Status SetOrganizationRetention(std::string_view organization_id, std::optional<int> retention_days) = 0;
  // Deletes one small batch, oldest first by index, in one short transaction: at most
  // `limit` rows of the kind asked (attempts go with their delivery). Open deliveries
  // (pending, retrying, in flight) and the events they need are never deleted, whatever
  // their age. On PostgreSQL only one node prunes at a time (an advisory lock): another
  // node's batch returns busy and deletes nothing.
  virtual Result<PruneResult> PruneBatch(const PruneRequest& request) = 0;
  // What pruning the organization's rows older than `before` would delete now.
  virtual Result<PruneCounts> CountPrunable(std::string_view organization_id, TimePoint before) = 0;
  // Gives up to `pages` free pages back to the file system (SQLite: incremental_vacuum);
  // returns how many free pages are left. Stores that reclaim space themselves (PostgreSQL's
  // autovacuum) return 0.
  virtual Result<int64_t> ReclaimSpace(int pages) = 0;
};

// Opens the store a database URL names: "sqlite:PATH" (or a bare path), or PostgreSQL by
// "postgres://…", "postgresql://…" or a libpq "host=… dbname=…" connection string.
Result<std::unique_ptr<Store>> OpenStore(std::string_view database_url);
// Whether OpenStore would accept the URL's form, without opening (or creating) anything.
Status CheckDatabaseUrl(std::string_view database_url);

}  // namespace ulak::store
