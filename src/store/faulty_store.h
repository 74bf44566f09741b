// FaultyStore: wraps a real Store (SQLite or PostgreSQL) and injects, on command from a test,
// the failures a store shows in production (issue 15, LevelDB's SpecialEnv idea): the disk
// full, SQLITE_BUSY, an I/O error on commit, a lost connection, and the worst case for
// at-least-once, a commit that succeeds but reports failure.
//
// Each fault fails the way the real store would (the same ErrorCode and a like message),
// so whatever sits above (writer, engine, API) cannot tell the wrapper from a sick database.
// A write is a method that changes state; a read is any other. kConnectionLost fails reads
// and writes; every other fault fails writes only (a full disk still answers SELECT 1).
// Migrate and SchemaVersion are never faulted (a test opens its store through them).
//
// Thread-safe: the fault is an atomic setting; the wrapped store is thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

namespace ulak::store {

enum class StoreFault {
  kNone,
  kDiskFull,         // SQLITE_FULL / PostgreSQL 53100: nothing written, kUnavailable
  kBusy,             // SQLITE_BUSY after busy_timeout: nothing written, kUnavailable
  kIoErrorOnCommit,  // SQLITE_IOERR at COMMIT: rolled back, kUnavailable
  kConnectionLost,   // the server went away: reads and writes fail, kUnavailable
  kCommitThenFail,   // the write commits, then the caller is told it failed (kUnavailable)
};

class FaultyStore final : public Store {
 public:
  explicit FaultyStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  // Faults the next `times` calls it applies to (-1: every call until Clear()).
  void Inject(StoreFault fault, int times = -1);
  void Clear() { Inject(StoreFault::kNone, 0); }
  // Calls failed by an injected fault so far.
  int64_t injected() const { return injected_.load(); }
  // Writes that reached the wrapped store and committed (including kCommitThenFail's).
  int64_t committed_writes() const { return committed_writes_.load(); }
  Store& inner() { return *inner_; }

  Status Migrate() override { return inner_->Migrate(); }
  Result<int> SchemaVersion() override { return inner_->SchemaVersion(); }
  Status Ping() override { return Read([&] { return inner_->Ping(); }); }
  Result<std::optional<std::string>> GetSetting(std::string_view name) override {
    return Read([&] { return inner_->GetSetting(name); });
  }
  Result<std::string> PutSettingIfAbsent(std::string_view name, std::string_view value) override {
    return Write([&] { return inner_->PutSettingIfAbsent(name, value); });
  }
  Status CreateOrganization(const Organization& org, const ApiKey& first_key) override {
    return Write([&] { return inner_->CreateOrganization(org, first_key); });
  }
  Result<Organization> GetOrganization(std::string_view id) override {
    return Read([&] { return inner_->GetOrganization(id); });
  }
  Result<Page<Organization>> ListOrganizations(const PageRequest& page) override {
    return Read([&] { return inner_->ListOrganizations(page); });
  }
  Status CreateApiKey(const ApiKey& key) override { return Write([&] { return inner_->CreateApiKey(key); }); }
  Result<Page<ApiKey>> ListApiKeys(std::string_view organization_id, const PageRequest& page) override {
    return Read([&] { return inner_->ListApiKeys(organization_id, page); });
  }
  Status DeleteApiKey(std::string_view organization_id, std::string_view key_id) override {
    return Write([&] { return inner_->DeleteApiKey(organization_id, key_id); });
  }
  Result<ApiKey> FindApiKeyByHash(std::string_view key_hash) override {
    return Read([&] { return inner_->FindApiKeyByHash(key_hash); });
  }
  Status CreateWebhook(const Webhook& webhook) override { return Write([&] { return inner_->CreateWebhook(webhook); }); }
  Result<Webhook> GetWebhook(std::string_view organization_id, std::string_view id) override {
    return Read([&] { return inner_->GetWebhook(organization_id, id); });
  }
  Result<Page<Webhook>> ListWebhooks(std::string_view organization_id, const PageRequest& page) override {
    return Read([&] { return inner_->ListWebhooks(organization_id, page); });
  }
  Result<std::vector<Webhook>> ListActiveWebhooks(std::string_view organization_id) override {
    return Read([&] { return inner_->ListActiveWebhooks(organization_id); });
  }
  Status UpdateWebhook(const Webhook& webhook) override { return Write([&] { return inner_->UpdateWebhook(webhook); }); }
  Status DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) override {
    return Write([&] { return inner_->DeleteWebhook(organization_id, id, now); });
  }
  Result<std::vector<PublishResult>> Publish(const std::vector<PublishRequest>& requests) override {
    return Write([&] { return inner_->Publish(requests); });
  }
  Status RecordOutcomes(const std::vector<AttemptOutcome>& outcomes) override {
    return Write([&] { return inner_->RecordOutcomes(outcomes); });
  }
  Result<std::vector<PublishResult>> CommitBatch(const std::vector<PublishRequest>& publishes,
                                                 const std::vector<AttemptOutcome>& outcomes) override {
    return Write([&] { return inner_->CommitBatch(publishes, outcomes); });
  }
  Status RecordDeadOutcome(const DeadOutcome& dead) override {
    return Write([&] { return inner_->RecordDeadOutcome(dead); });
  }
  Result<std::vector<DeadOutcome>> ListDeadOutcomes(int limit) override {
    return Read([&] { return inner_->ListDeadOutcomes(limit); });
  }
  Result<std::vector<PendingDelivery>> ListPendingDeliveries(std::string_view after, int limit) override {
    return Read([&] { return inner_->ListPendingDeliveries(after, limit); });
  }
  Result<std::vector<PendingDelivery>> ListDueDeliveriesForWebhook(std::string_view webhook_id, TimePoint from,
                                                                   std::string_view after_id, int limit) override {
    return Read([&] { return inner_->ListDueDeliveriesForWebhook(webhook_id, from, after_id, limit); });
  }
  Result<int64_t> CancelPendingDeliveries(std::string_view webhook_id) override {
    return Write([&] { return inner_->CancelPendingDeliveries(webhook_id); });
  }
  Result<Event> GetEvent(std::string_view organization_id, std::string_view id) override {
    return Read([&] { return inner_->GetEvent(organization_id, id); });
  }
  bool SharesWork() const override { return inner_->SharesWork(); }
  Result<std::vector<PendingDelivery>> ClaimDueDeliveries(std::string_view node_id, TimePoint now,
                                                          TimePoint lease_until, int limit) override {
    return Write([&] { return inner_->ClaimDueDeliveries(node_id, now, lease_until, limit); });
  }
  Result<int64_t> RenewLeases(std::string_view node_id, TimePoint lease_until) override {
    return Write([&] { return inner_->RenewLeases(node_id, lease_until); });
  }
  bool WaitForWork(std::chrono::milliseconds timeout) override { return inner_->WaitForWork(timeout); }
  Result<PendingDelivery> GetDelivery(std::string_view organization_id, std::string_view id) override {
    return Read([&] { return inner_->GetDelivery(organization_id, id); });
  }
  Status RequeueDelivery(std::string_view id, TimePoint now, std::string_view claimed_by = "",
                         std::optional<TimePoint> lease_until = std::nullopt) override {
    return Write([&] { return inner_->RequeueDelivery(id, now, claimed_by, lease_until); });
  }
  Result<std::vector<PendingDelivery>> ListFailedDeliveries(std::string_view webhook_id, TimePoint since,
                                                            std::string_view after, int limit) override {
    return Read([&] { return inner_->ListFailedDeliveries(webhook_id, since, after, limit); });
  }
  Status CreateDelivery(const Delivery& delivery) override {
    return Write([&] { return inner_->CreateDelivery(delivery); });
  }
  Status DisableWebhook(std::string_view id, std::string_view reason, TimePoint now) override {
    return Write([&] { return inner_->DisableWebhook(id, reason, now); });
  }
  Status CreateJob(const Job& job) override { return Write([&] { return inner_->CreateJob(job); }); }
  Status UpdateJob(const Job& job) override { return Write([&] { return inner_->UpdateJob(job); }); }
  Result<Job> GetJob(std::string_view organization_id, std::string_view id) override {
    return Read([&] { return inner_->GetJob(organization_id, id); });
  }
  Result<std::vector<WebhookHealth>> GetWebhookHealth(std::string_view organization_id, TimePoint since) override {
    return Read([&] { return inner_->GetWebhookHealth(organization_id, since); });
  }
  Status CreateSource(const Source& source) override { return Write([&] { return inner_->CreateSource(source); }); }
  Result<Source> GetSource(std::string_view organization_id, std::string_view id) override {
    return Read([&] { return inner_->GetSource(organization_id, id); });
  }
  Result<Source> GetDefaultSource(std::string_view provider) override {
    return Read([&] { return inner_->GetDefaultSource(provider); });
  }
  Result<Page<Source>> ListSources(std::string_view organization_id, const PageRequest& page) override {
    return Read([&] { return inner_->ListSources(organization_id, page); });
  }
  Result<std::vector<Source>> ListAllSources(std::string_view organization_id) override {
    return Read([&] { return inner_->ListAllSources(organization_id); });
  }
  Status UpdateSource(const Source& source) override { return Write([&] { return inner_->UpdateSource(source); }); }
  Status DeleteSource(std::string_view organization_id, std::string_view id, TimePoint now) override {
    return Write([&] { return inner_->DeleteSource(organization_id, id, now); });
  }
  Status RecordRejected(const IncomingRequest& request) override {
    return Write([&] { return inner_->RecordRejected(request); });
  }
  Result<std::vector<IncomingRequest>> ListIncoming(const IncomingFilter& filter) override {
    return Read([&] { return inner_->ListIncoming(filter); });
  }
  Result<std::vector<Webhook>> ListAllWebhooks(std::string_view organization_id) override {
    return Read([&] { return inner_->ListAllWebhooks(organization_id); });
  }
  Result<std::vector<Attempt>> ListAttempts(const AttemptFilter& filter) override {
    return Read([&] { return inner_->ListAttempts(filter); });
  }
  Result<AttemptStats> GetAttemptStats(const AttemptFilter& filter) override {
    return Read([&] { return inner_->GetAttemptStats(filter); });
  }
  Result<AttemptLog> ListAttemptsWithStats(const AttemptFilter& filter) override {
    return Read([&] { return inner_->ListAttemptsWithStats(filter); });
  }

  // --- retention ---
  Status SetOrganizationRetention(std::string_view organization_id, std::optional<int> retention_days) override {
    return Write([&] { return inner_->SetOrganizationRetention(organization_id, retention_days); });
  }
  Result<PruneResult> PruneBatch(const PruneRequest& request) override {
    return Write([&] { return inner_->PruneBatch(request); });
  }
  Result<PruneCounts> CountPrunable(std::string_view organization_id, TimePoint before) override {
    return Read([&] { return inner_->CountPrunable(organization_id, before); });
  }
  Result<int64_t> ReclaimSpace(int pages) override {
    return Write([&] { return inner_->ReclaimSpace(pages); });
  }

  // --- web UI ---
  Result<std::vector<DeliveryBucket>> GetDeliveryBuckets(const DeliveryBucketFilter& filter) override {
    return Read([&] { return inner_->GetDeliveryBuckets(filter); });
  }
  Result<int64_t> GetPortalGeneration(std::string_view organization_id) override {
    return Read([&] { return inner_->GetPortalGeneration(organization_id); });
  }
  Result<int64_t> RevokePortalTokens(std::string_view organization_id) override {
    return Write([&] { return inner_->RevokePortalTokens(organization_id); });
  }
  Status CreateInbox(const Inbox& inbox) override {
    return Write([&] { return inner_->CreateInbox(inbox); });
  }
  Result<Inbox> GetInbox(std::string_view organization_id, std::string_view id) override {
    return Read([&] { return inner_->GetInbox(organization_id, id); });
  }
  Result<std::vector<Inbox>> ListInboxes(std::string_view organization_id) override {
    return Read([&] { return inner_->ListInboxes(organization_id); });
  }
  Status UpdateInbox(const Inbox& inbox) override {
    return Write([&] { return inner_->UpdateInbox(inbox); });
  }
  Status DeleteInbox(std::string_view organization_id, std::string_view id) override {
    return Write([&] { return inner_->DeleteInbox(organization_id, id); });
  }
  Status RecordInboxRequest(const InboxRequest& request, int keep_max, TimePoint keep_since) override {
    return Write([&] { return inner_->RecordInboxRequest(request, keep_max, keep_since); });
  }
  Result<std::vector<InboxRequest>> ListInboxRequests(std::string_view inbox_id, TimePoint since,
                                                      int limit) override {
    return Read([&] { return inner_->ListInboxRequests(inbox_id, since, limit); });
  }

 private:
  // The error the current fault gives a call of this kind, or nullopt to let it through
  // (kCommitThenFail lets it through: After() then replaces its success).
  std::optional<Status> Before(bool write);
  // For kCommitThenFail: the error that replaces a committed write's success.
  std::optional<Status> After();

  template <typename F>
  auto Read(F&& call) -> decltype(call()) {
    if (std::optional<Status> fail = Before(false)) return *fail;
    return call();
  }
  template <typename F>
  auto Write(F&& call) -> decltype(call()) {
    if (std::optional<Status> fail = Before(true)) return *fail;
    auto result = call();
    if (!result.ok()) return result;
    committed_writes_.fetch_add(1);
    if (std::optional<Status> fail = After()) return *fail;
    return result;
  }

  const std::unique_ptr<Store> inner_;
  std::mutex mu_;
  StoreFault fault_ = StoreFault::kNone;  // GUARDED_BY(mu_)
  int remaining_ = 0;                     // GUARDED_BY(mu_): -1 forever
  std::atomic<int64_t> injected_{0};
  std::atomic<int64_t> committed_writes_{0};
};

}  // namespace ulak::store
