// EncryptingStore: keeps secrets encrypted at rest in any Store by wrapping it.
//
// Webhook secrets (secret_key, previous_secret_key, template_auth_json, signing_key,
// previous_signing_key, each custom header's value: sealed_headers.h) and every string of a source's
// secrets_json are sealed with the master key (crypto::SecretBox) on the way in and opened on
// the way out, so the wrapped store, its files, its WAL and its backups never hold a secret in
// clear, while every caller above still sees plaintext. Being a decorator, it works the same
// over SQLite and PostgreSQL and the stores stay ignorant of keys.
//
// Every other method forwards unchanged. When Store gains a method, add a forwarding override
// here; one that returns a Webhook or a Source must open its secrets too (the pure virtual ones
// break the build when forgotten, the ones with default bodies do not: check them by hand).
//
// Thread-safe as the wrapped store is: the box is immutable and Random is thread-safe.
#pragma once

#include <memory>

#include "common/random.h"
#include "crypto/secret_box.h"
#include "store/store.h"

namespace ulak::store {

// What ReencryptAll did.
struct ReencryptReport {
  int64_t webhooks = 0;  // webhooks whose secrets were re-sealed
  int64_t sources = 0;   // sources whose secrets were re-sealed
  int64_t values = 0;    // secret strings re-sealed in all
};

class EncryptingStore final : public Store {
 public:
  // random: the nonce source, SystemRandom in production.
  EncryptingStore(std::unique_ptr<Store> inner, std::shared_ptr<const crypto::SecretBox> box,
                  Random& random = SystemRandom::Instance());

  // Re-seals, with the box's current key, every secret of every not deleted webhook and source
  // that is still plaintext (a database from before encryption) or sealed with an older key.
  // Values already under the current key are left alone, so a second run does nothing.
  // Run it while no server uses the database: an update made meanwhile could be overwritten
  // by the value read just before it.
  Result<ReencryptReport> ReencryptAll();
  // Opens every stored secret once; the first value the keyring cannot open gives its error.
  // Lets the server refuse to start with a clear message instead of failing every request.
  Status CheckAllSecretsOpen();

  Store& inner() { return *inner_; }

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

  Status CreateWebhook(const Webhook& webhook) override;
  Result<Webhook> GetWebhook(std::string_view organization_id, std::string_view id) override;
  Result<Page<Webhook>> ListWebhooks(std::string_view organization_id, const PageRequest& page) override;
  Result<std::vector<Webhook>> ListActiveWebhooks(std::string_view organization_id) override;
  Status UpdateWebhook(const Webhook& webhook) override;
  Status DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) override;

  Result<std::vector<PublishResult>> Publish(const std::vector<PublishRequest>& requests) override;
  Status RecordOutcomes(const std::vector<AttemptOutcome>& outcomes) override;
  Result<std::vector<PendingDelivery>> ListPendingDeliveries(std::string_view after, int limit) override;
  Result<std::vector<PendingDelivery>> ListDueDeliveriesForWebhook(std::string_view webhook_id, TimePoint from,
                                                                   std::string_view after_id, int limit) override;
  // Dead letters carry no secret: straight through.
  Status RecordDeadOutcome(const DeadOutcome& dead) override { return inner_->RecordDeadOutcome(dead); }
  Result<std::vector<DeadOutcome>> ListDeadOutcomes(int limit) override { return inner_->ListDeadOutcomes(limit); }
  bool SharesWork() const override { return inner_->SharesWork(); }
  // Neither part carries a secret: straight through, keeping the inner store's one transaction.
  Result<std::vector<PublishResult>> CommitBatch(const std::vector<PublishRequest>& publishes,
                                                 const std::vector<AttemptOutcome>& outcomes) override {
    return inner_->CommitBatch(publishes, outcomes);
  }
  Result<std::vector<PendingDelivery>> ClaimDueDeliveries(std::string_view node_id, TimePoint now,
                                                          TimePoint lease_until, int limit) override {
    return inner_->ClaimDueDeliveries(node_id, now, lease_until, limit);
  }
  Result<int64_t> RenewLeases(std::string_view node_id, TimePoint lease_until) override {
    return inner_->RenewLeases(node_id, lease_until);
  }
  bool WaitForWork(std::chrono::milliseconds timeout) override { return inner_->WaitForWork(timeout); }
  Result<int64_t> CancelPendingDeliveries(std::string_view webhook_id) override;
  Result<Event> GetEvent(std::string_view organization_id, std::string_view id) override;

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

  Result<std::vector<Attempt>> ListAttempts(const AttemptFilter& filter) override;
  Result<AttemptStats> GetAttemptStats(const AttemptFilter& filter) override;
  Result<AttemptLog> ListAttemptsWithStats(const AttemptFilter& filter) override;

  // Web UI: nothing here carries a secret, so straight through.
  Result<std::vector<DeliveryBucket>> GetDeliveryBuckets(const DeliveryBucketFilter& filter) override {
    return inner_->GetDeliveryBuckets(filter);
  }
  Result<int64_t> GetPortalGeneration(std::string_view organization_id) override {
    return inner_->GetPortalGeneration(organization_id);
  }
  Result<int64_t> RevokePortalTokens(std::string_view organization_id) override {
    return inner_->RevokePortalTokens(organization_id);
  }
  Status CreateInbox(const Inbox& inbox) override { return inner_->CreateInbox(inbox); }
  Result<Inbox> GetInbox(std::string_view organization_id, std::string_view id) override {
    return inner_->GetInbox(organization_id, id);
  }
  Result<std::vector<Inbox>> ListInboxes(std::string_view organization_id) override {
    return inner_->ListInboxes(organization_id);
  }
  Status UpdateInbox(const Inbox& inbox) override { return inner_->UpdateInbox(inbox); }
  Status DeleteInbox(std::string_view organization_id, std::string_view id) override {
    return inner_->DeleteInbox(organization_id, id);
  }
  Status RecordInboxRequest(const InboxRequest& request, int keep_max, TimePoint keep_since) override {
    return inner_->RecordInboxRequest(request, keep_max, keep_since);
  }
  Result<std::vector<InboxRequest>> ListInboxRequests(std::string_view inbox_id, TimePoint since,
                                                      int limit) override {
    return inner_->ListInboxRequests(inbox_id, since, limit);
  }
  // Retention touches no secret.
  Status SetOrganizationRetention(std::string_view organization_id, std::optional<int> retention_days) override {
    return inner_->SetOrganizationRetention(organization_id, retention_days);
  }
  Result<PruneResult> PruneBatch(const PruneRequest& request) override { return inner_->PruneBatch(request); }
  Result<PruneCounts> CountPrunable(std::string_view organization_id, TimePoint before) override {
    return inner_->CountPrunable(organization_id, before);
  }
  Result<int64_t> ReclaimSpace(int pages) override { return inner_->ReclaimSpace(pages); }

 private:
  Result<Webhook> Sealed(Webhook webhook) const;
  Result<Source> Sealed(Source source) const;
  Status Open(Webhook& webhook) const;
  Status Open(Source& source) const;
  Status Open(std::vector<Webhook>& webhooks) const;
  Status Open(std::vector<Source>& sources) const;

  const std::unique_ptr<Store> inner_;
  const std::shared_ptr<const crypto::SecretBox> box_;
  Random& random_;
};

}  // namespace ulak::store
