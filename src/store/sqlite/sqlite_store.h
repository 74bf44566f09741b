// The embedded store: one SQLite file in WAL mode.
//
// Connections come from a small pool, one per concurrent caller; each caches its prepared
// statements. Writers take the write lock up front (BEGIN IMMEDIATE) and wait on
// busy_timeout rather than failing under contention.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/file_identity.h"
#include "store/store.h"

namespace ulak::store::sqlite {

class SqliteStore final : public Store {
 public:
  // Opens (creating the file and its directory if needed). Does not migrate.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, int max_connections = 8);
  ~SqliteStore() override;

  Status Migrate() override;
  Result<int> SchemaVersion() override;
  Status Ping() override;

  Result<std::optional<std::string>> GetSetting(std::string_view name) override;
  Result<std::string> PutSettingIfAbsent(std::string_view name, std::string_view value) override;

  Status CreateOrganization(const Organization& org, const ApiKey& first_key) override;
  Result<Organization> GetOrganization(std::string_view id) override;
  Result<Page<Organization>> ListOrganizations(const PageRequest& page) override;

  Status CreateApiKey(const ApiKey& key) override;
  Result<Page<ApiKey>> ListApiKeys(std::string_view organization_id, const PageRequest& page) override;
  Status DeleteApiKey(std::string_view organization_id, std::string_view key_id) override;
  Result<ApiKey> FindApiKeyByHash(std::string_view key_hash) override;

  // Outgoing webhooks: sqlite_outgoing.cc.
  Status CreateWebhook(const Webhook& webhook) override;
  Result<Webhook> GetWebhook(std::string_view organization_id, std::string_view id) override;
  Result<Page<Webhook>> ListWebhooks(std::string_view organization_id, const PageRequest& page) override;
  Result<std::vector<Webhook>> ListActiveWebhooks(std::string_view organization_id) override;
  Status UpdateWebhook(const Webhook& webhook) override;
  Status DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) override;
  Result<std::vector<PublishResult>> Publish(const std::vector<PublishRequest>& requests) override;
  Status RecordOutcomes(const std::vector<AttemptOutcome>& outcomes) override;
  Result<std::vector<PublishResult>> CommitBatch(const std::vector<PublishRequest>& publishes,
                                                 const std::vector<AttemptOutcome>& outcomes) override;
  Result<std::vector<PendingDelivery>> ListPendingDeliveries(std::string_view after, int limit) override;
  Result<std::vector<PendingDelivery>> ListDueDeliveriesForWebhook(std::string_view webhook_id, TimePoint from,
                                                                   std::string_view after_id, int limit) override;
  // The writer's dead letters: *_dead_outcomes.cc.
  Status RecordDeadOutcome(const DeadOutcome& dead) override;
  Result<std::vector<DeadOutcome>> ListDeadOutcomes(int limit) override;
  Result<int64_t> CancelPendingDeliveries(std::string_view webhook_id) override;
  Result<Event> GetEvent(std::string_view organization_id, std::string_view id) override;
  Result<std::vector<Attempt>> ListAttempts(const AttemptFilter& filter) override;
  Result<AttemptStats> GetAttemptStats(const AttemptFilter& filter) override;
  Result<AttemptLog> ListAttemptsWithStats(const AttemptFilter& filter) override;

  // Shared work: sqlite_outgoing.cc. One SQLite node never needs it, but the store keeps the
  // contract so both stores pass one conformance suite.
  Result<std::vector<PendingDelivery>> ClaimDueDeliveries(std::string_view node_id, TimePoint now,
                                                          TimePoint lease_until, int limit) override;
  Result<int64_t> RenewLeases(std::string_view node_id, TimePoint lease_until) override;

  // Delivery operations: sqlite_operations.cc.
  Result<PendingDelivery> GetDelivery(std::string_view organization_id, std::string_view id) override;
  Status RequeueDelivery(std::string_view id, TimePoint now, std::string_view claimed_by = "",
                         std::optional<TimePoint> lease_until = std::nullopt) override;
  Result<std::vector<PendingDelivery>> ListFailedDeliveries(std::string_view webhook_id, TimePoint since,
                                                            std::string_view after, int limit) override;
  Status CreateDelivery(const Delivery& delivery) override;
  Status DisableWebhook(std::string_view id, std::string_view reason, TimePoint now) override;
  Status CreateJob(const Job& job) override;
  Status UpdateJob(const Job& job) override;
  Result<Job> GetJob(std::string_view organization_id, std::string_view id) override;
  Result<std::vector<WebhookHealth>> GetWebhookHealth(std::string_view organization_id, TimePoint since) override;

  // Incoming: sqlite_incoming.cc.
  Status CreateSource(const Source& source) override;
  Result<Source> GetSource(std::string_view organization_id, std::string_view id) override;
  Result<Source> GetDefaultSource(std::string_view provider) override;
  Result<Page<Source>> ListSources(std::string_view organization_id, const PageRequest& page) override;
  Result<std::vector<Source>> ListAllSources(std::string_view organization_id) override;
  Status UpdateSource(const Source& source) override;
  Status DeleteSource(std::string_view organization_id, std::string_view id, TimePoint now) override;
  Status RecordRejected(const IncomingRequest& request) override;
  Result<std::vector<IncomingRequest>> ListIncoming(const IncomingFilter& filter) override;
  Result<std::vector<Webhook>> ListAllWebhooks(std::string_view organization_id) override;

  // Web UI (stats, portal, inboxes): sqlite_ui.cc.
  Result<std::vector<DeliveryBucket>> GetDeliveryBuckets(const DeliveryBucketFilter& filter) override;
  Result<int64_t> GetPortalGeneration(std::string_view organization_id) override;
  Result<int64_t> RevokePortalTokens(std::string_view organization_id) override;
  Status CreateInbox(const Inbox& inbox) override;
  Result<Inbox> GetInbox(std::string_view organization_id, std::string_view id) override;
  Result<std::vector<Inbox>> ListInboxes(std::string_view organization_id) override;
  Status UpdateInbox(const Inbox& inbox) override;
  Status DeleteInbox(std::string_view organization_id, std::string_view id) override;
  Status RecordInboxRequest(const InboxRequest& request, int keep_max, TimePoint keep_since) override;
  Result<std::vector<InboxRequest>> ListInboxRequests(std::string_view inbox_id, TimePoint since,
                                                      int limit) override;
  // Retention: sqlite_retention.cc.
  Status SetOrganizationRetention(std::string_view organization_id, std::optional<int> retention_days) override;
  Result<PruneResult> PruneBatch(const PruneRequest& request) override;
  Result<PruneCounts> CountPrunable(std::string_view organization_id, TimePoint before) override;
  Result<int64_t> ReclaimSpace(int pages) override;
  // Tests only: runs raw SQL (bulk fixtures such as a million old attempt rows).
  Status ExecForTest(std::string_view sql);

 private:
  // A pooled connection, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(SqliteStore* store, std::unique_ptr<Connection> conn) : store_(store), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) store_->Release(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    SqliteStore* store_;
    std::unique_ptr<Connection> conn_;
  };
  SqliteStore(std::string path, int max_connections)
      : path_(std::move(path)), max_connections_(max_connections) {}
  Result<Lease> Acquire();
  // Inserts one incoming request row on conn (inside the caller's transaction, if any).
  static Result<std::vector<Attempt>> ListAttemptsOn(Connection& conn, const AttemptFilter& filter);
  static Result<AttemptStats> GetAttemptStatsOn(Connection& conn, const AttemptFilter& filter);
  static Status InsertDelivery(Connection& conn, const Delivery& delivery);
  // Cancels the webhook's pending and retrying deliveries (delete, disable).
  static Status CancelOpenDeliveries(Connection& conn, std::string_view webhook_id, TimePoint now);
  static Result<std::vector<PublishResult>> PublishOn(Connection& conn, const std::vector<PublishRequest>& requests);
  static Status RecordOutcomesOn(Connection& conn, const std::vector<AttemptOutcome>& outcomes);
  // An accepted request's body is stored as a delta against event_payload, the payload of the
  // event it became (store/incoming_body.h), when one describes it.
  static Status InsertIncoming(Connection& conn, const IncomingRequest& request,
                               std::string_view event_payload = {});
  // The same row with its status and event_id given apart (a publish stores the request it
  // was handed as accepted or duplicate, with its event, without copying the request).
  static Status InsertIncomingAs(Connection& conn, const IncomingRequest& request, IncomingStatus status,
                                 std::string_view event_id, std::string_view event_payload = {});
  void Release(std::unique_ptr<Connection> conn);
  // Switches a file created before migration 0008 to auto_vacuum=INCREMENTAL (one VACUUM).
  static Status EnableIncrementalVacuum(Connection& conn);
  // Gives the events written before migration 0013 their idempotency_key (SQLite has no
  // SHA-256 to do it in the migration); nothing to do on later starts.
  static Status FillIdempotencyKeys(Connection& conn);

  const std::string path_;
  // The file opened at start: Ping, a publish and a new connection check the path still
  // names it (file_identity.h).
  std::optional<FileIdentity> identity_;
  const int max_connections_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mu_)
  int open_count_ = 0;                             // GUARDED_BY(mu_)
  // Held by the group commit (CommitBatch) and by each retention batch for their write
  // transactions: a prune batch and a publish hand the write lock over through this mutex at
  // once, instead of the publish sleeping in SQLite's busy handler (which backs off in steps
  // of up to 100 ms) while a batch commits.
  std::mutex write_gate_;
};

// The delivery-bucket query (sqlite_ui.cc), with ?1 organization, ?2 from, ?3 to (unix ms),
// ?4 bucket width (ms) and, by_webhook, ?5 webhook id. Exposed for the query-plan test.
std::string DeliveryBucketsSql(bool by_webhook);
// ListIncoming's query for this filter (?1 organization, ?2 source, ?3 status, ?4 before,
// ?5 limit), for its plan test.
std::string ListIncomingSql(const IncomingFilter& filter);

}  // namespace ulak::store::sqlite
