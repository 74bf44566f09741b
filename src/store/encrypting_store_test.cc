// EncryptingStore over the real SQLite store: the file holds no secret in clear, callers see
// plaintext, rotation re-seals under the new key. The whole Store conformance suite also runs
// through it, so the decorator changes nothing but the stored secrets.
#include "store/encrypting_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/ids.h"
#include "store/conformance.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::store {
namespace {

const std::string kKeyA(32, 'a');
const std::string kKeyB(32, 'b');
const std::string kWebhookSecret = "5f1d3c0a9b8e7d6c5f1d3c0a9b8e7d6c5f1d3c0a9b8e7d6c5f1d3c0a9b8e7d6c";
const std::string kPreviousSecret = "0e0e0e0e1f1f1f1f2a2a2a2a3b3b3b3b4c4c4c4c5d5d5d5d6e6e6e6e7f7f7f7f";
const std::string kSourceSecret = "whsec_Sup3rS3cretStripeSigningValue";
const std::string kSourceSecret2 = "whsec_SecondSecretDuringProviderRotation";
const std::string kSigningKey = "whsk_Ed25519SigningKeyThatMustNeverBeOnDiskInClear";
const std::string kPreviousSigningKey = "whsk_PreviousEd25519SigningKeyDuringTheGracePeriod";

std::shared_ptr<const crypto::SecretBox> Box(std::string current, std::vector<std::string> previous = {}) {
  Result<crypto::SecretBox> box = crypto::SecretBox::Create(std::move(current), std::move(previous));
  EXPECT_TRUE(box.ok()) << box.status().ToString();
  return std::make_shared<const crypto::SecretBox>(std::move(box).value());
}

std::unique_ptr<Store> OpenSqlite(const std::string& path) {
  Result<std::unique_ptr<sqlite::SqliteStore>> store = sqlite::SqliteStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return nullptr;
  EXPECT_TRUE((*store)->Migrate().ok());
  return std::move(store).value();
}

// The database file and its -wal/-journal companions, as raw bytes.
std::string RawDatabaseBytes(const std::string& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  return all;
}

class EncryptingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(db_dir_);
    Reopen(Box(kKeyA));
  }

  void Reopen(std::shared_ptr<const crypto::SecretBox> box) {
    store_.reset();  // one store open at a time, as in the server
    std::unique_ptr<Store> inner = OpenSqlite(db_path_);
    ASSERT_NE(inner, nullptr);
    store_ = std::make_unique<EncryptingStore>(std::move(inner), std::move(box));
  }

  std::string Id() {
    clock_.Advance(Millis(1));
    return NewId(clock_, random_);
  }

  std::string CreateOrg() {
    Organization org{Id(), "Kebab House", clock_.Now()};
    EXPECT_TRUE(store_->CreateOrganization(org, {Id(), org.id, "hash-" + org.id, "ulak_x", clock_.Now()}).ok());
    return org.id;
  }

  Webhook NewWebhook(const std::string& org) {
    Webhook w;
    w.id = Id();
    w.organization_id = org;
    w.name = "CRM";
    w.url = "https://crm.example/hooks";
    w.secret_key = kWebhookSecret;
    w.events_json = R"(["order.created"])";
    w.custom_headers_json = "{}";
    w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
    w.created_at = w.updated_at = clock_.Now();
    return w;
  }

  Source NewSource(const std::string& org) {
    Source s;
    s.id = Id();
    s.organization_id = org;
    s.name = "Stripe";
    s.provider = "stripe";
    s.secrets_json = R"([")" + kSourceSecret + R"("])";
    s.options_json = "{}";
    s.event_map_json = "[]";
    s.default_for_provider = true;
    s.created_at = s.updated_at = clock_.Now();
    return s;
  }

  ulak::testing::TempDir dir_;
  const std::string db_dir_ = dir_.path() + "/db";
  const std::string db_path_ = db_dir_ + "/ulak.db";
  ManualClock clock_{TimePoint(std::chrono::milliseconds(1'750'000'000'000))};
  SeededRandomForTest random_{42};
  std::unique_ptr<EncryptingStore> store_;
};

TEST_F(EncryptingStoreTest, DatabaseFileHoldsNoSecretInClearAndCallersSeePlaintext) {
  const std::string org = CreateOrg();
  Webhook w = NewWebhook(org);
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  Source s = NewSource(org);
  ASSERT_TRUE(store_->CreateSource(s).ok());
  // An update with a grace-period secret and a second source secret: sealed as well.
  w.previous_secret_key = kPreviousSecret;
  w.signature_scheme = "ed25519";
  w.signing_key = kSigningKey;
  w.previous_signing_key = kPreviousSigningKey;
  ASSERT_TRUE(store_->UpdateWebhook(w).ok());
  s.secrets_json = R"([")" + kSourceSecret + R"(",")" + kSourceSecret2 + R"("])";
  ASSERT_TRUE(store_->UpdateSource(s).ok());

  // Every read path opens.
  EXPECT_EQ(store_->GetWebhook(org, w.id)->secret_key, kWebhookSecret);
  EXPECT_EQ(store_->GetWebhook("", w.id)->previous_secret_key, kPreviousSecret);
  EXPECT_EQ(store_->GetWebhook(org, w.id)->signing_key, kSigningKey);
  EXPECT_EQ(store_->GetWebhook(org, w.id)->previous_signing_key, kPreviousSigningKey);
  EXPECT_EQ(store_->ListWebhooks(org, {})->items.at(0).secret_key, kWebhookSecret);
  EXPECT_EQ(store_->ListActiveWebhooks(org)->at(0).secret_key, kWebhookSecret);
  EXPECT_EQ(store_->ListAllWebhooks("")->at(0).secret_key, kWebhookSecret);
  EXPECT_EQ(store_->GetSource(org, s.id)->secrets_json, s.secrets_json);
  EXPECT_EQ(store_->GetDefaultSource("stripe")->secrets_json, s.secrets_json);
  EXPECT_EQ(store_->ListSources(org, {})->items.at(0).secrets_json, s.secrets_json);
  EXPECT_EQ(store_->ListAllSources("")->at(0).secrets_json, s.secrets_json);

  // The wrapped store holds sealed values under key A, a JSON array still for the source.
  const std::string key_a = crypto::MasterKeyId(kKeyA);
  Result<Webhook> raw_w = store_->inner().GetWebhook(org, w.id);
  ASSERT_TRUE(raw_w.ok());
  EXPECT_EQ(raw_w->secret_key.rfind("enc:v1:" + key_a + ":", 0), 0u) << raw_w->secret_key;
  EXPECT_EQ(raw_w->previous_secret_key.rfind("enc:v1:" + key_a + ":", 0), 0u);
  EXPECT_EQ(raw_w->signing_key.rfind("enc:v1:" + key_a + ":", 0), 0u);
  EXPECT_EQ(raw_w->previous_signing_key.rfind("enc:v1:" + key_a + ":", 0), 0u);
  Result<Source> raw_s = store_->inner().GetSource(org, s.id);
  ASSERT_TRUE(raw_s.ok());
  EXPECT_EQ(raw_s->secrets_json.rfind(R"(["enc:v1:)" + key_a + ":", 0), 0u) << raw_s->secrets_json;

  // And the bytes on disk (database, WAL) never contain a secret.
  store_.reset();  // closes the connections
  const std::string bytes = RawDatabaseBytes(db_dir_);
  ASSERT_NE(bytes.find("crm.example"), std::string::npos) << "the read found the data at all";
  for (const std::string& secret :
       {kWebhookSecret, kPreviousSecret, kSourceSecret, kSourceSecret2, kSigningKey, kPreviousSigningKey}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " is on disk in clear";
  }
  EXPECT_EQ(bytes.find("whsec_"), std::string::npos);
}

TEST_F(EncryptingStoreTest, RotationReencryptsEverythingUnderTheNewKey) {
  const std::string org = CreateOrg();
  Webhook w = NewWebhook(org);
  w.previous_secret_key = kPreviousSecret;
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  Source s = NewSource(org);
  s.secrets_json = R"([")" + kSourceSecret + R"(",")" + kSourceSecret2 + R"("])";
  ASSERT_TRUE(store_->CreateSource(s).ok());
  const TimePoint updated_at = store_->GetWebhook(org, w.id)->updated_at;

  // The new key alone cannot read the old values, and says which key is missing.
  Reopen(Box(kKeyB));
  Result<Webhook> unreadable = store_->GetWebhook(org, w.id);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.status().message().find(crypto::MasterKeyId(kKeyA)), std::string::npos)
      << unreadable.status().message();
  Status check = store_->CheckAllSecretsOpen();
  EXPECT_FALSE(check.ok());
  EXPECT_NE(check.message().find("4 stored secret(s)"), std::string::npos) << check.message();

  // The new key with the old one as previous: everything reads, then re-seals.
  Reopen(Box(kKeyB, {kKeyA}));
  EXPECT_TRUE(store_->CheckAllSecretsOpen().ok());
  EXPECT_EQ(store_->GetWebhook(org, w.id)->secret_key, kWebhookSecret);
  Result<ReencryptReport> report = store_->ReencryptAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->webhooks, 1);
  EXPECT_EQ(report->sources, 1);
  EXPECT_EQ(report->values, 4);
  const std::string key_b = crypto::MasterKeyId(kKeyB);
  EXPECT_EQ(store_->inner().GetWebhook(org, w.id)->secret_key.rfind("enc:v1:" + key_b + ":", 0), 0u);
  EXPECT_EQ(store_->inner().GetWebhook(org, w.id)->previous_secret_key.rfind("enc:v1:" + key_b + ":", 0), 0u);
  const std::string raw_secrets = store_->inner().GetSource(org, s.id)->secrets_json;
  EXPECT_EQ(raw_secrets.find(crypto::MasterKeyId(kKeyA)), std::string::npos) << raw_secrets;
  EXPECT_EQ(store_->inner().GetWebhook(org, w.id)->updated_at, updated_at) << "re-encryption is not an edit";
  // A second run has nothing left to do.
  EXPECT_EQ(store_->ReencryptAll()->values, 0);

  // The old key can go now.
  Reopen(Box(kKeyB));
  EXPECT_TRUE(store_->CheckAllSecretsOpen().ok());
  EXPECT_EQ(store_->GetWebhook(org, w.id)->secret_key, kWebhookSecret);
  EXPECT_EQ(store_->GetWebhook(org, w.id)->previous_secret_key, kPreviousSecret);
  EXPECT_EQ(store_->GetSource(org, s.id)->secrets_json, s.secrets_json);
}

TEST_F(EncryptingStoreTest, SigningKeysAreCheckedAndReencryptedWithTheOtherSecrets) {
  const std::string org = CreateOrg();
  Webhook w = NewWebhook(org);
  w.signature_scheme = "ed25519";
  w.signing_key = kSigningKey;
  w.previous_signing_key = kPreviousSigningKey;
  ASSERT_TRUE(store_->CreateWebhook(w).ok());

  Reopen(Box(kKeyB));
  EXPECT_FALSE(store_->CheckAllSecretsOpen().ok());
  Reopen(Box(kKeyB, {kKeyA}));
  Result<ReencryptReport> report = store_->ReencryptAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->values, 3);  // secret_key and both signing keys
  const std::string key_b = crypto::MasterKeyId(kKeyB);
  EXPECT_EQ(store_->inner().GetWebhook(org, w.id)->signing_key.rfind("enc:v1:" + key_b + ":", 0), 0u);
  EXPECT_EQ(store_->inner().GetWebhook(org, w.id)->previous_signing_key.rfind("enc:v1:" + key_b + ":", 0), 0u);
  Reopen(Box(kKeyB));
  EXPECT_TRUE(store_->CheckAllSecretsOpen().ok());
  EXPECT_EQ(store_->GetWebhook(org, w.id)->signing_key, kSigningKey);
  EXPECT_EQ(store_->GetWebhook(org, w.id)->previous_signing_key, kPreviousSigningKey);
}

TEST_F(EncryptingStoreTest, PlaintextRowsFromBeforeEncryptionReadAndGetSealedByReencryptAll) {
  const std::string org = CreateOrg();
  Webhook w = NewWebhook(org);
  Source s = NewSource(org);
  // Written straight into the wrapped store, as a server without encryption did.
  ASSERT_TRUE(store_->inner().CreateWebhook(w).ok());
  ASSERT_TRUE(store_->inner().CreateSource(s).ok());
  EXPECT_TRUE(store_->CheckAllSecretsOpen().ok());
  EXPECT_EQ(store_->GetWebhook(org, w.id)->secret_key, kWebhookSecret);
  EXPECT_EQ(store_->GetSource(org, s.id)->secrets_json, s.secrets_json);

  Result<ReencryptReport> report = store_->ReencryptAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->values, 2);
  EXPECT_TRUE(crypto::IsSealed(store_->inner().GetWebhook(org, w.id)->secret_key));
  EXPECT_EQ(store_->inner().GetSource(org, s.id)->secrets_json.find(kSourceSecret), std::string::npos);
  EXPECT_EQ(store_->GetWebhook(org, w.id)->secret_key, kWebhookSecret);
  EXPECT_EQ(store_->GetSource(org, s.id)->secrets_json, s.secrets_json);
}

TEST_F(EncryptingStoreTest, SecretThatLooksSealedReadsBackAsGiven) {
  // Source secrets come from users; one that happens to start with the prefix is still data.
  const std::string org = CreateOrg();
  Source s = NewSource(org);
  s.secrets_json = R"(["enc:v1:00000000:AAAA"])";
  ASSERT_TRUE(store_->CreateSource(s).ok());
  EXPECT_EQ(store_->GetSource(org, s.id)->secrets_json, s.secrets_json);
}

TEST_F(EncryptingStoreTest, AlteredStoredSecretFailsToReadInsteadOfReturningGarbage) {
  const std::string org = CreateOrg();
  Webhook w = NewWebhook(org);
  ASSERT_TRUE(store_->CreateWebhook(w).ok());
  Webhook raw = store_->inner().GetWebhook(org, w.id).value();
  raw.secret_key.back() = raw.secret_key.back() == 'A' ? 'B' : 'A';
  ASSERT_TRUE(store_->inner().UpdateWebhook(raw).ok());
  Result<Webhook> read = store_->GetWebhook(org, w.id);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), ErrorCode::kInternal);
  EXPECT_NE(read.status().message().find(w.id), std::string::npos) << read.status().message();
}

}  // namespace

namespace testing {
namespace {

// The conformance suite through the decorator: it must not change any behaviour.
StoreFactory EncryptingSqliteFactory() {
  return {"encrypting_sqlite", []() -> std::unique_ptr<Store> {
            static ulak::testing::TempDir dir;  // lives for the whole test binary
            static int counter = 0;
            static const std::shared_ptr<const crypto::SecretBox> box = Box(kKeyA);
            std::unique_ptr<Store> inner = OpenSqlite(dir.path() + "/encrypting_" + std::to_string(++counter) + ".db");
            if (inner == nullptr) return nullptr;
            return std::make_unique<EncryptingStore>(std::move(inner), box);
          }};
}

INSTANTIATE_TEST_SUITE_P(EncryptingSqlite, StoreConformanceTest, ::testing::Values(EncryptingSqliteFactory()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace testing
}  // namespace ulak::store
