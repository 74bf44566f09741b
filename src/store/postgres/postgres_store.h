// The shared store: one PostgreSQL database, reached through libpq, which several ulak
// nodes may use at once.
//
// Connections come from a bounded pool, one per concurrent caller (so a caller blocks on a
// free connection, never an event loop on the network: store calls run off the loops, as
// with SQLite); each connection prepares its statements once. A connection whose server
// went away is dropped, and idle ones are checked before reuse, so a restarted server
// costs at most the calls that were in flight: they fail with kUnavailable and the next
// ones reconnect.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/connection.h"
#include "store/store.h"

namespace ulak::store::postgres {

class PgColumns;

class PostgresStore final : public Store {
 public:
  // Connects once now, so a bad conninfo or an unreachable server fails at start (kInvalidArgument,
  // kUnavailable). Does not migrate.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo, int max_connections = 8);
  ~PostgresStore() override;

  // Serialised across nodes by an advisory lock: several nodes starting at once apply each
  // version once.
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

  // Outgoing webhooks: postgres_outgoing.cc.
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

  // Delivery operations, jobs and monitoring: postgres_operations.cc.
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

  // Incoming: postgres_incoming.cc.
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

  // Web UI (stats, portal, inboxes): postgres_ui.cc.
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


  // Shared work: postgres_claims.cc.
  bool SharesWork() const override { return true; }
  Result<std::vector<PendingDelivery>> ClaimDueDeliveries(std::string_view node_id, TimePoint now,
                                                          TimePoint lease_until, int limit) override;
  Result<int64_t> RenewLeases(std::string_view node_id, TimePoint lease_until) override;
  bool WaitForWork(std::chrono::milliseconds timeout) override;

  // Retention: postgres_retention.cc.
  Status SetOrganizationRetention(std::string_view organization_id, std::optional<int> retention_days) override;
  Result<PruneResult> PruneBatch(const PruneRequest& request) override;
  Result<PruneCounts> CountPrunable(std::string_view organization_id, TimePoint before) override;
  Result<int64_t> ReclaimSpace(int pages) override;
  // Tests only: runs raw SQL (bulk fixtures such as a million old attempt rows).
  Status ExecForTest(std::string_view sql);

 private:
  // A pooled connection, returned to the pool when the lease ends (or dropped if broken).
  class Lease {
   public:
    Lease(PostgresStore* store, std::unique_ptr<Connection> conn) : store_(store), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) store_->Release(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    PostgresStore* store_;
    std::unique_ptr<Connection> conn_;
  };
  PostgresStore(std::string conninfo, int max_connections)
      : conninfo_(std::move(conninfo)), max_connections_(max_connections) {}
  Result<Lease> Acquire();
  void Release(std::unique_ptr<Connection> conn);
  static Result<std::vector<Attempt>> ListAttemptsOn(Connection& conn, const AttemptFilter& filter);
  static Result<AttemptStats> GetAttemptStatsOn(Connection& conn, const AttemptFilter& filter);
  // Inserts one incoming request row on conn (inside the caller's transaction, if any).
  // An accepted request's body is stored as a delta against event_payload, the payload of the
  // event it became (store/incoming_body.h), when one describes it.
  static Status InsertIncoming(Connection& conn, const IncomingRequest& request,
                               std::string_view event_payload = {});
  // The same, for a writer round: rows gathered with AddIncomingRow (a PgColumns of 12
  // columns), inserted by one statement (nothing when empty).
  static void AddIncomingRow(PgColumns& rows, const IncomingRequest& request, std::string_view event_payload = {});
  static Status InsertIncomingRows(Connection& conn, const PgColumns& rows);

  static Status InsertDelivery(Connection& conn, const Delivery& delivery);
  // The halves of CommitBatch, inside the caller's transaction. unclaimed_work: set when a
  // delivery no node holds was inserted (other nodes should be told).
  static Result<std::vector<PublishResult>> PublishOn(Connection& conn, const std::vector<PublishRequest>& requests,
                                                      bool& unclaimed_work);
  static Status RecordOutcomesOn(Connection& conn, const std::vector<AttemptOutcome>& outcomes);
  // ClaimDueDeliveries for ordered webhooks: appends to out (postgres_claims.cc).
  // lines: the ordered webhooks with open, unleased deliveries (ClaimDueDeliveries finds them).
  static Status ClaimOrdered(Connection& conn, std::string_view node_id, TimePoint now, TimePoint lease_until,
                             int limit, const std::vector<std::string>& lines, std::vector<PendingDelivery>& out);
  const std::string conninfo_;
  // The LISTEN connection of WaitForWork, outside the pool; only the claimer thread uses it.
  std::unique_ptr<Connection> listener_;
  const int max_connections_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mu_)
  int open_count_ = 0;                             // GUARDED_BY(mu_): idle + leased
};

}  // namespace ulak::store::postgres
