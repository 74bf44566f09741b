#include "store/encrypting_store.h"

#include "store/sealed_headers.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ulak::store {
namespace {

// Applies fn to each string of a JSON array of strings (a source's secrets_json) and returns
// the array re-serialized. An empty text stays empty (no secrets stored).
template <typename Fn>
Result<std::string> MapSecrets(const std::string& secrets_json, Fn&& fn) {
  if (secrets_json.empty()) return std::string();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(secrets_json, ec);
  if (ec || !v.is_array()) return Internal("a source's secrets are not a JSON array");
  for (boost::json::value& item : v.as_array()) {
    if (!item.is_string()) return Internal("a source's secrets are not all strings");
    ULAK_ASSIGN_OR_RETURN(std::string mapped, fn(std::string_view(item.as_string())));
    item = boost::json::string(mapped);
  }
  return boost::json::serialize(v);
}

// Every string of a JSON array of strings; empty for anything else.
std::vector<std::string> SecretStrings(const std::string& secrets_json) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(secrets_json, ec);
  if (ec || !v.is_array()) return out;
  for (const boost::json::value& item : v.as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

Status InContext(const Status& status, std::string_view what, std::string_view id) {
  return Status(status.code(), std::string(what) + " " + std::string(id) + ": " + status.message());
}

}  // namespace

EncryptingStore::EncryptingStore(std::unique_ptr<Store> inner, std::shared_ptr<const crypto::SecretBox> box,
                                 Random& random)
    : inner_(std::move(inner)), box_(std::move(box)), random_(random) {}

// ---- sealing and opening ----

Result<Webhook> EncryptingStore::Sealed(Webhook webhook) const {
  // Always sealed, even when the value already looks sealed: Open peels exactly one layer,
  // so a secret that happens to start with "enc:v1:" still reads back as given.
  if (!webhook.secret_key.empty()) {
    ULAK_ASSIGN_OR_RETURN(webhook.secret_key, box_->Seal(webhook.secret_key, random_));
  }
  if (!webhook.previous_secret_key.empty()) {
    ULAK_ASSIGN_OR_RETURN(webhook.previous_secret_key, box_->Seal(webhook.previous_secret_key, random_));
  }
  if (!webhook.template_auth_json.empty()) {
    ULAK_ASSIGN_OR_RETURN(webhook.template_auth_json, box_->Seal(webhook.template_auth_json, random_));
  }
  for (std::string* key : {&webhook.signing_key, &webhook.previous_signing_key}) {
    if (key->empty()) continue;
    ULAK_ASSIGN_OR_RETURN(*key, box_->Seal(*key, random_));
  }
  ULAK_ASSIGN_OR_RETURN(webhook.custom_headers_json,
                        MapHeaderValues(webhook.custom_headers_json,
                                        [this](std::string_view value) { return box_->Seal(value, random_); }));
  return webhook;
}

Result<Source> EncryptingStore::Sealed(Source source) const {
  ULAK_ASSIGN_OR_RETURN(source.secrets_json, MapSecrets(source.secrets_json, [this](std::string_view secret) {
                          return box_->Seal(secret, random_);
                        }));
  return source;
}

Status EncryptingStore::Open(Webhook& webhook) const {
  Result<std::string> secret = box_->Open(webhook.secret_key);
  if (!secret.ok()) return InContext(secret.status(), "webhook", webhook.id);
  webhook.secret_key = std::move(secret).value();
  if (!webhook.previous_secret_key.empty()) {
    Result<std::string> previous = box_->Open(webhook.previous_secret_key);
    if (!previous.ok()) return InContext(previous.status(), "webhook", webhook.id);
    webhook.previous_secret_key = std::move(previous).value();
  }
  if (!webhook.template_auth_json.empty()) {
    Result<std::string> auth = box_->Open(webhook.template_auth_json);
    if (!auth.ok()) return InContext(auth.status(), "webhook", webhook.id);
    webhook.template_auth_json = std::move(auth).value();
  }
  for (std::string* key : {&webhook.signing_key, &webhook.previous_signing_key}) {
    if (key->empty()) continue;
    Result<std::string> opened = box_->Open(*key);
    if (!opened.ok()) return InContext(opened.status(), "webhook", webhook.id);
    *key = std::move(opened).value();
  }
  // Values stored before headers were sealed are plaintext: Open returns them unchanged.
  Result<std::string> headers =
      MapHeaderValues(webhook.custom_headers_json, [this](std::string_view value) { return box_->Open(value); });
  if (!headers.ok()) return InContext(headers.status(), "webhook", webhook.id);
  webhook.custom_headers_json = std::move(headers).value();
  return Status::Ok();
}

Status EncryptingStore::Open(Source& source) const {
  Result<std::string> secrets =
      MapSecrets(source.secrets_json, [this](std::string_view secret) { return box_->Open(secret); });
  if (!secrets.ok()) return InContext(secrets.status(), "source", source.id);
  source.secrets_json = std::move(secrets).value();
  return Status::Ok();
}

Status EncryptingStore::Open(std::vector<Webhook>& webhooks) const {
  for (Webhook& w : webhooks) ULAK_RETURN_IF_ERROR(Open(w));
  return Status::Ok();
}

Status EncryptingStore::Open(std::vector<Source>& sources) const {
  for (Source& s : sources) ULAK_RETURN_IF_ERROR(Open(s));
  return Status::Ok();
}

// ---- key rotation ----

Result<ReencryptReport> EncryptingStore::ReencryptAll() {
  ReencryptReport report;
  auto reseal = [this, &report](std::string& value) -> Status {
    if (value.empty() || box_->IsSealedWithCurrentKey(value)) return Status::Ok();
    ULAK_ASSIGN_OR_RETURN(std::string plain, box_->Open(value));
    ULAK_ASSIGN_OR_RETURN(value, box_->Seal(plain, random_));
    ++report.values;
    return Status::Ok();
  };

  // Read from the wrapped store: the values as stored, to re-seal only what needs it.
  ULAK_ASSIGN_OR_RETURN(std::vector<Webhook> webhooks, inner_->ListAllWebhooks(""));
  for (Webhook& w : webhooks) {
    const int64_t before = report.values;
    if (Status s = reseal(w.secret_key); !s.ok()) return InContext(s, "webhook", w.id);
    if (Status s = reseal(w.previous_secret_key); !s.ok()) return InContext(s, "webhook", w.id);
    if (Status s = reseal(w.template_auth_json); !s.ok()) return InContext(s, "webhook", w.id);
    if (Status s = reseal(w.signing_key); !s.ok()) return InContext(s, "webhook", w.id);
    if (Status s = reseal(w.previous_signing_key); !s.ok()) return InContext(s, "webhook", w.id);
    Result<std::string> headers = MapHeaderValues(w.custom_headers_json, [&reseal](std::string_view v) -> Result<std::string> {
      std::string value(v);
      ULAK_RETURN_IF_ERROR(reseal(value));
      return value;
    });
    if (!headers.ok()) return InContext(headers.status(), "webhook", w.id);
    w.custom_headers_json = std::move(headers).value();
    if (report.values == before) continue;
    // updated_at is kept: re-encryption changes no setting the user made.
    ULAK_RETURN_IF_ERROR(inner_->UpdateWebhook(w));
    ++report.webhooks;
  }

  ULAK_ASSIGN_OR_RETURN(std::vector<Source> sources, inner_->ListAllSources(""));
  for (Source& s : sources) {
    const int64_t before = report.values;
    Result<std::string> secrets = MapSecrets(s.secrets_json, [&reseal](std::string_view secret) -> Result<std::string> {
      std::string value(secret);
      ULAK_RETURN_IF_ERROR(reseal(value));
      return value;
    });
    if (!secrets.ok()) return InContext(secrets.status(), "source", s.id);
    if (report.values == before) continue;
    s.secrets_json = std::move(secrets).value();
    ULAK_RETURN_IF_ERROR(inner_->UpdateSource(s));
    ++report.sources;
  }
  return report;
}

Status EncryptingStore::CheckAllSecretsOpen() {
  int64_t missing = 0;
  std::string example;  // one value whose key is missing, for the message
  auto check = [&](const std::string& value) {
    if (box_->HasKeyFor(value)) return;
    if (++missing == 1) example = value;
  };
  ULAK_ASSIGN_OR_RETURN(std::vector<Webhook> webhooks, inner_->ListAllWebhooks(""));
  for (const Webhook& w : webhooks) {
    check(w.secret_key);
    check(w.previous_secret_key);
    check(w.template_auth_json);
    check(w.signing_key);
    check(w.previous_signing_key);
    (void)MapHeaderValues(w.custom_headers_json, [&check](std::string_view value) -> Result<std::string> {
      check(std::string(value));
      return std::string(value);
    });
  }
  ULAK_ASSIGN_OR_RETURN(std::vector<Source> sources, inner_->ListAllSources(""));
  for (const Source& s : sources) {
    for (const std::string& secret : SecretStrings(s.secrets_json)) check(secret);
  }
  if (missing == 0) return Status::Ok();
  // Open names the missing key id and the remedy.
  Result<std::string> opened = box_->Open(example);
  const std::string detail = opened.ok() ? std::string("unknown key") : opened.status().message();
  return Internal(std::to_string(missing) + " stored secret(s) cannot be decrypted with the configured master "
                  "key(s): " + detail);
}

// ---- what carries secrets ----

Status EncryptingStore::CreateWebhook(const Webhook& webhook) {
  ULAK_ASSIGN_OR_RETURN(Webhook sealed, Sealed(webhook));
  return inner_->CreateWebhook(sealed);
}

Result<Webhook> EncryptingStore::GetWebhook(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Webhook w, inner_->GetWebhook(organization_id, id));
  ULAK_RETURN_IF_ERROR(Open(w));
  return w;
}

Result<Page<Webhook>> EncryptingStore::ListWebhooks(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Page<Webhook> result, inner_->ListWebhooks(organization_id, page));
  ULAK_RETURN_IF_ERROR(Open(result.items));
  return result;
}

Result<std::vector<Webhook>> EncryptingStore::ListActiveWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(std::vector<Webhook> result, inner_->ListActiveWebhooks(organization_id));
  ULAK_RETURN_IF_ERROR(Open(result));
  return result;
}

Result<std::vector<Webhook>> EncryptingStore::ListAllWebhooks(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(std::vector<Webhook> result, inner_->ListAllWebhooks(organization_id));
  ULAK_RETURN_IF_ERROR(Open(result));
  return result;
}

Status EncryptingStore::UpdateWebhook(const Webhook& webhook) {
  ULAK_ASSIGN_OR_RETURN(Webhook sealed, Sealed(webhook));
  return inner_->UpdateWebhook(sealed);
}

Status EncryptingStore::CreateSource(const Source& source) {
  ULAK_ASSIGN_OR_RETURN(Source sealed, Sealed(source));
  return inner_->CreateSource(sealed);
}

Result<Source> EncryptingStore::GetSource(std::string_view organization_id, std::string_view id) {
  ULAK_ASSIGN_OR_RETURN(Source s, inner_->GetSource(organization_id, id));
  ULAK_RETURN_IF_ERROR(Open(s));
  return s;
}

Result<Source> EncryptingStore::GetDefaultSource(std::string_view provider) {
  ULAK_ASSIGN_OR_RETURN(Source s, inner_->GetDefaultSource(provider));
  ULAK_RETURN_IF_ERROR(Open(s));
  return s;
}

Result<Page<Source>> EncryptingStore::ListSources(std::string_view organization_id, const PageRequest& page) {
  ULAK_ASSIGN_OR_RETURN(Page<Source> result, inner_->ListSources(organization_id, page));
  ULAK_RETURN_IF_ERROR(Open(result.items));
  return result;
}

Result<std::vector<Source>> EncryptingStore::ListAllSources(std::string_view organization_id) {
  ULAK_ASSIGN_OR_RETURN(std::vector<Source> result, inner_->ListAllSources(organization_id));
  ULAK_RETURN_IF_ERROR(Open(result));
  return result;
}

Status EncryptingStore::UpdateSource(const Source& source) {
  ULAK_ASSIGN_OR_RETURN(Source sealed, Sealed(source));
  return inner_->UpdateSource(sealed);
}

// ---- forwarded unchanged ----

Status EncryptingStore::Migrate() { return inner_->Migrate(); }
Result<int> EncryptingStore::SchemaVersion() { return inner_->SchemaVersion(); }
Status EncryptingStore::Ping() { return inner_->Ping(); }
Result<std::optional<std::string>> EncryptingStore::GetSetting(std::string_view name) {
  return inner_->GetSetting(name);
}
Result<std::string> EncryptingStore::PutSettingIfAbsent(std::string_view name, std::string_view value) {
  return inner_->PutSettingIfAbsent(name, value);
}

Status EncryptingStore::CreateOrganization(const Organization& org, const ApiKey& first_key) {
  return inner_->CreateOrganization(org, first_key);
}
Result<Organization> EncryptingStore::GetOrganization(std::string_view id) { return inner_->GetOrganization(id); }
Result<Page<Organization>> EncryptingStore::ListOrganizations(const PageRequest& page) {
  return inner_->ListOrganizations(page);
}
Status EncryptingStore::CreateApiKey(const ApiKey& key) { return inner_->CreateApiKey(key); }
Result<Page<ApiKey>> EncryptingStore::ListApiKeys(std::string_view organization_id, const PageRequest& page) {
  return inner_->ListApiKeys(organization_id, page);
}
Status EncryptingStore::DeleteApiKey(std::string_view organization_id, std::string_view key_id) {
  return inner_->DeleteApiKey(organization_id, key_id);
}
Result<ApiKey> EncryptingStore::FindApiKeyByHash(std::string_view key_hash) {
  return inner_->FindApiKeyByHash(key_hash);
}

Status EncryptingStore::DeleteWebhook(std::string_view organization_id, std::string_view id, TimePoint now) {
  return inner_->DeleteWebhook(organization_id, id, now);
}

Result<std::vector<PublishResult>> EncryptingStore::Publish(const std::vector<PublishRequest>& requests) {
  return inner_->Publish(requests);
}
Status EncryptingStore::RecordOutcomes(const std::vector<AttemptOutcome>& outcomes) {
  return inner_->RecordOutcomes(outcomes);
}
Result<std::vector<PendingDelivery>> EncryptingStore::ListPendingDeliveries(std::string_view after, int limit) {
  return inner_->ListPendingDeliveries(after, limit);
}
Result<std::vector<PendingDelivery>> EncryptingStore::ListDueDeliveriesForWebhook(std::string_view webhook_id,
                                                                                  TimePoint from,
                                                                                  std::string_view after_id,
                                                                                  int limit) {
  return inner_->ListDueDeliveriesForWebhook(webhook_id, from, after_id, limit);
}
Result<int64_t> EncryptingStore::CancelPendingDeliveries(std::string_view webhook_id) {
  return inner_->CancelPendingDeliveries(webhook_id);
}
Result<Event> EncryptingStore::GetEvent(std::string_view organization_id, std::string_view id) {
  return inner_->GetEvent(organization_id, id);
}

Result<PendingDelivery> EncryptingStore::GetDelivery(std::string_view organization_id, std::string_view id) {
  return inner_->GetDelivery(organization_id, id);
}
Status EncryptingStore::RequeueDelivery(std::string_view id, TimePoint now, std::string_view claimed_by,
                                        std::optional<TimePoint> lease_until) {
  return inner_->RequeueDelivery(id, now, claimed_by, lease_until);
}
Result<std::vector<PendingDelivery>> EncryptingStore::ListFailedDeliveries(std::string_view webhook_id,
                                                                           TimePoint since, std::string_view after,
                                                                           int limit) {
  return inner_->ListFailedDeliveries(webhook_id, since, after, limit);
}
Status EncryptingStore::CreateDelivery(const Delivery& delivery) { return inner_->CreateDelivery(delivery); }
Status EncryptingStore::DisableWebhook(std::string_view id, std::string_view reason, TimePoint now) {
  return inner_->DisableWebhook(id, reason, now);
}
Status EncryptingStore::CreateJob(const Job& job) { return inner_->CreateJob(job); }
Status EncryptingStore::UpdateJob(const Job& job) { return inner_->UpdateJob(job); }
Result<Job> EncryptingStore::GetJob(std::string_view organization_id, std::string_view id) {
  return inner_->GetJob(organization_id, id);
}
Result<std::vector<WebhookHealth>> EncryptingStore::GetWebhookHealth(std::string_view organization_id,
                                                                     TimePoint since) {
  return inner_->GetWebhookHealth(organization_id, since);
}

Status EncryptingStore::DeleteSource(std::string_view organization_id, std::string_view id, TimePoint now) {
  return inner_->DeleteSource(organization_id, id, now);
}
Status EncryptingStore::RecordRejected(const IncomingRequest& request) { return inner_->RecordRejected(request); }
Result<std::vector<IncomingRequest>> EncryptingStore::ListIncoming(const IncomingFilter& filter) {
  return inner_->ListIncoming(filter);
}

Result<std::vector<Attempt>> EncryptingStore::ListAttempts(const AttemptFilter& filter) {
  return inner_->ListAttempts(filter);
}
Result<AttemptStats> EncryptingStore::GetAttemptStats(const AttemptFilter& filter) {
  return inner_->GetAttemptStats(filter);
}
Result<AttemptLog> EncryptingStore::ListAttemptsWithStats(const AttemptFilter& filter) {
  return inner_->ListAttemptsWithStats(filter);
}

}  // namespace ulak::store
