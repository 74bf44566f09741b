// Issue 15, defect 3: custom header values are sealed at rest by EncryptingStore (names stay
// readable), callers see plaintext, rows from before still read, and rotation re-seals them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/ids.h"
#include "store/encrypting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::store {
namespace {

const std::string kApiKey = "sk_live_51HeaderValue1234567890";
const std::string kN8nSecret = "n8n-shared-header-secret-value";

std::shared_ptr<const crypto::SecretBox> Box(std::string key) {
  return std::make_shared<const crypto::SecretBox>(crypto::SecretBox::Create(std::move(key), {}).value());
}

std::string FileBytes(const std::string& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  return all;
}

TEST(SealedHeaders, ValuesAreSealedAtRestAndOpenedForCallers) {
  ulak::testing::TempDir dir;
  ManualClock clock;
  SeededRandomForTest random{3};
  auto inner = sqlite::SqliteStore::Open(dir.path() + "/ulak.db");
  ASSERT_TRUE(inner.ok());
  ASSERT_TRUE((*inner)->Migrate().ok());
  EncryptingStore store(std::move(inner).value(), Box(std::string(32, 'a')), random);

  Organization org{NewId(clock, random), "org", clock.Now()};
  ASSERT_TRUE(store.CreateOrganization(org, {NewId(clock, random), org.id, "h", "ulak_x", clock.Now()}).ok());
  Webhook w;
  w.id = NewId(clock, random);
  w.organization_id = org.id;
  w.name = "n8n";
  w.url = "https://n8n.example/webhook";
  w.secret_key = std::string(64, 'c');
  w.events_json = R"(["*"])";
  w.custom_headers_json = R"({"X-API-Key":")" + kApiKey + R"(","X-Webhook-Secret":")" + kN8nSecret + R"("})";
  w.retry_policy_json = "{}";
  w.created_at = w.updated_at = clock.Now();
  ASSERT_TRUE(store.CreateWebhook(w).ok());

  Result<Webhook> raw = store.inner().GetWebhook("", w.id);
  ASSERT_TRUE(raw.ok());
  EXPECT_NE(raw->custom_headers_json.find(R"("X-API-Key":"enc:v1:)"), std::string::npos) << raw->custom_headers_json;
  EXPECT_NE(raw->custom_headers_json.find(R"("X-Webhook-Secret":"enc:v1:)"), std::string::npos);
  EXPECT_EQ(raw->custom_headers_json.find(kApiKey), std::string::npos);
  EXPECT_EQ(FileBytes(dir.path()).find(kN8nSecret), std::string::npos) << "a header value is in the file in clear";
  EXPECT_EQ(store.GetWebhook(org.id, w.id)->custom_headers_json, w.custom_headers_json);
  EXPECT_EQ(store.ListActiveWebhooks(org.id)->at(0).custom_headers_json, w.custom_headers_json);

  // A row from before sealing (plaintext values) still reads, and rotation seals it.
  Webhook legacy = *raw;
  legacy.custom_headers_json = R"({"X-API-Key":"plain-old-value-0001"})";
  ASSERT_TRUE(store.inner().UpdateWebhook(legacy).ok());
  EXPECT_EQ(store.GetWebhook("", w.id)->custom_headers_json, legacy.custom_headers_json);
  Result<ReencryptReport> report = store.ReencryptAll();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GE(report->values, 1);
  EXPECT_EQ(store.inner().GetWebhook("", w.id)->custom_headers_json.find("plain-old-value"), std::string::npos);
  EXPECT_EQ(store.GetWebhook("", w.id)->custom_headers_json, legacy.custom_headers_json);
  EXPECT_TRUE(store.CheckAllSecretsOpen().ok());
}

}  // namespace
}  // namespace ulak::store
