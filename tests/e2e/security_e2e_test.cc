// End-to-end tests of secrets at rest and production mode (issue 8, SPEC §9): the real
// `ulak serve` binary over a real SQLite file. Secrets are created through the API, the
// server is stopped, and the database file's raw bytes are searched for them; after a
// restart (and after `ulak rotate-master-key`) the same secrets still sign deliveries and
// verify incoming requests, checked with an independent HMAC (OpenSSL here).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/server_fixture.h"
#include "support/sink.h"

namespace ulak::testing {
namespace {

namespace json = boost::json;

const std::string kKeyA = "1111111111111111111111111111111111111111111111111111111111111111";
// The same kind of key in base64 (32 bytes of 0x22), the other accepted spelling.
const std::string kKeyB = "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=";
const std::string kStripeSecret = "whsec_e2eStripeSigningSecretThatMustNeverBeOnDisk";

std::string HexHmacSha256(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &len);
  static const char* kDigits = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kDigits[out[i] >> 4]);
    hex.push_back(kDigits[out[i] & 15]);
  }
  return hex;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Secrets {
  std::string webhook_id;
  std::string secret_key;
  std::string source_id;
};

class SecurityE2E : public ServerFixture {
 protected:
  // Each test starts the server itself, with the environment it is about.
  void SetUp() override {
    // Keys come from the test's own environment entries only.
    ::unsetenv("ULAK_MASTER_KEY");
    ::unsetenv("ULAK_MASTER_KEY_PREVIOUS");
  }

  std::vector<std::string> Env(const std::string& master_key = "") const {
    std::vector<std::string> env{"ULAK_ADMIN_KEY=" + kAdminKey};
    if (!master_key.empty()) env.push_back("ULAK_MASTER_KEY=" + master_key);
    return env;
  }

  void StartWith(std::vector<std::string> env, std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = ServeArgs();
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    server_ = std::make_unique<UlakProcess>(std::move(args), std::move(env), dir_.path());
    ASSERT_GT(server_->WaitForPort(), 0) << server_->Stderr();
  }

  void Stop() {
    ASSERT_NE(server_, nullptr);
    EXPECT_EQ(server_->StopWith(SIGTERM), 0) << server_->Stderr();
    logs_ += server_->Stdout() + server_->Stderr();
    server_.reset();
  }

  // The database file and its WAL and rollback journal, whatever of them exists.
  std::string RawDatabase() const {
    std::string bytes;
    for (const char* suffix : {"", "-wal", "-journal"}) {
      if (std::filesystem::exists(DbPath() + suffix)) bytes += ReadBytes(DbPath() + suffix);
    }
    return bytes;
  }

  // An organization, a webhook to the sink and a Stripe source, through the API.
  void CreateSecrets(Secrets* out) {
    auto [org_id, org_key] = CreateOrg("Kebab House");
    org_key_ = org_key;
    json::object webhook{{"organization_id", org_id},
                         {"name", "CRM"},
                         {"url", sink_.Url("/hook")},
                         {"events", json::array{"order.created"}}};
    HttpResult w = Call("POST", "/api/webhooks", org_key_, json::serialize(webhook));
    ASSERT_EQ(w.status, 201) << w.body;
    out->webhook_id = std::string(Json(w).at("webhook").at("id").as_string());
    out->secret_key = std::string(Json(w).at("webhook").at("secret_key").as_string());
    ASSERT_EQ(out->secret_key.size(), 64u);

    json::object source{{"organization_id", org_id},
                        {"name", "Stripe"},
                        {"provider", "stripe"},
                        {"secrets", json::array{json::string(kStripeSecret)}}};
    HttpResult s = Call("POST", "/api/sources", org_key_, json::serialize(source));
    ASSERT_EQ(s.status, 201) << s.body;
    out->source_id = std::string(Json(s).at("source").at("id").as_string());
  }

  // The secrets still work: the webhook test endpoint sends a delivery signed with the
  // secret_key the create answer gave, and a Stripe-signed request to the source verifies.
  void ExpectSecretsWork(const Secrets& secrets) {
    const size_t before = sink_.Count("/hook");
    HttpResult t = Call("POST", "/api/webhooks/test", org_key_,
                        R"({"webhook_config_id":")" + secrets.webhook_id + "\"}");
    ASSERT_EQ(t.status, 200) << t.body;
    EXPECT_EQ(Json(t).at("success"), true) << t.body;
    ASSERT_EQ(sink_.Count("/hook"), before + 1);
    const SinkRequest sent = sink_.Requests("/hook").back();
    EXPECT_EQ(sent.Header("X-Webhook-Signature"), HexHmacSha256(secrets.secret_key, sent.body));

    const std::string body = R"({"id":"evt_)" + std::to_string(++events_) +
                             R"(","type":"payment_intent.succeeded","data":{"object":{}}})";
    const std::string t_now = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    HttpResult in = Call("POST", "/api/incoming/" + secrets.source_id, "", body,
                         {"Content-Type: application/json",
                          "Stripe-Signature: t=" + t_now + ",v1=" + HexHmacSha256(kStripeSecret, t_now + "." + body)});
    EXPECT_EQ(in.status, 200) << in.body;
    EXPECT_EQ(Json(in).at("received"), true) << in.body;
    // And a wrong signature is still refused (the source's secret is not empty or garbage).
    HttpResult bad = Call("POST", "/api/incoming/" + secrets.source_id, "", body,
                          {"Content-Type: application/json",
                           "Stripe-Signature: t=" + t_now + ",v1=" + HexHmacSha256("whsec_wrong", t_now + "." + body)});
    EXPECT_EQ(bad.status, 400) << bad.body;
  }

  HttpSink sink_;
  std::string org_key_;
  int events_ = 0;
  std::string logs_;  // every stopped server's stdout and stderr
};

// Development mode: no ULAK_MASTER_KEY, so a key file is generated beside the database; the
// database file never holds the secrets, and they work after a restart.
TEST_F(SecurityE2E, DatabaseFileHoldsNoSecretInClearAndSecretsWorkAfterRestart) {
  ASSERT_NO_FATAL_FAILURE(StartWith(Env()));
  EXPECT_TRUE(Contains(server_->Stderr(), "development master key")) << server_->Stderr();
  Secrets secrets;
  ASSERT_NO_FATAL_FAILURE(CreateSecrets(&secrets));
  ASSERT_NO_FATAL_FAILURE(ExpectSecretsWork(secrets));
  ASSERT_NO_FATAL_FAILURE(Stop());

  const std::string key_file = dir_.path() + "/master.key";
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << "no key file at " << key_file;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string key = ReadBytes(key_file);
  EXPECT_EQ(key.size(), 65u) << "64 hex characters and a newline";

  const std::string raw = RawDatabase();
  ASSERT_TRUE(Contains(raw, sink_.Url("/hook"))) << "the database was read at all";
  EXPECT_FALSE(Contains(raw, secrets.secret_key)) << "the webhook secret is on disk in clear";
  EXPECT_FALSE(Contains(raw, kStripeSecret)) << "the source secret is on disk in clear";
  EXPECT_FALSE(Contains(raw, "whsec_"));
  EXPECT_TRUE(Contains(raw, "enc:v1:"));
  // Nor do the logs show the secrets or the master key.
  ASSERT_TRUE(Contains(logs_, "listening"));
  for (const std::string& secret : {secrets.secret_key, kStripeSecret, key.substr(0, 64)}) {
    EXPECT_FALSE(Contains(logs_, secret)) << "the logs show a secret";
  }

  ASSERT_NO_FATAL_FAILURE(StartWith(Env()));
  EXPECT_EQ(ReadBytes(key_file), key) << "the key file is reused, not replaced";
  ASSERT_NO_FATAL_FAILURE(ExpectSecretsWork(secrets));
  ASSERT_NO_FATAL_FAILURE(Stop());
}

TEST_F(SecurityE2E, ProductionModeRefusesToStartWithoutMasterKey) {
  const std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--database", "sqlite:" + DbPath(),
                                         "--mode", "production"};
  auto [code, output] = RunUlak(args, Env(), dir_.path());
  EXPECT_NE(code, 0) << output;
  EXPECT_TRUE(Contains(output, "ULAK_MASTER_KEY is required in production mode: 32 bytes as 64 hex characters or "
                               "base64 (generate one with `openssl rand -hex 32`)"))
      << output;
  EXPECT_FALSE(std::filesystem::exists(DbPath())) << "refused before touching the database";
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/master.key")) << "no key file in production";

  // A malformed key is refused too, without echoing it.
  auto [bad_code, bad_output] = RunUlak(args, Env("0123456789abcdef"), dir_.path());
  EXPECT_NE(bad_code, 0) << bad_output;
  EXPECT_TRUE(Contains(bad_output, "ULAK_MASTER_KEY: a master key must be 32 bytes")) << bad_output;
  EXPECT_FALSE(Contains(bad_output, "0123456789abcdef")) << bad_output;

  // With a key it starts, and still writes no key file.
  ASSERT_NO_FATAL_FAILURE(StartWith(Env(kKeyA), {"--mode", "production"}));
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/master.key"));
  EXPECT_FALSE(Contains(server_->Stderr(), kKeyA));
  ASSERT_NO_FATAL_FAILURE(Stop());
}

TEST_F(SecurityE2E, RotateMasterKeyReencryptsSoOnlyTheNewKeyIsNeeded) {
  ASSERT_NO_FATAL_FAILURE(StartWith(Env(kKeyA)));
  Secrets secrets;
  ASSERT_NO_FATAL_FAILURE(CreateSecrets(&secrets));
  ASSERT_NO_FATAL_FAILURE(Stop());
  const std::string database = "sqlite:" + DbPath();

  // The new key alone cannot read the secrets: the server refuses to start and says why.
  auto [refused, refused_output] = RunUlak(ServeArgs(), Env(kKeyB), dir_.path());
  EXPECT_NE(refused, 0) << refused_output;
  EXPECT_TRUE(Contains(refused_output, "ULAK_MASTER_KEY_PREVIOUS")) << refused_output;

  // Rotation without the old key changes nothing.
  auto [no_old, no_old_output] = RunUlak({"rotate-master-key", "--database", database}, Env(kKeyB), dir_.path());
  EXPECT_NE(no_old, 0) << no_old_output;

  std::vector<std::string> rotate_env = Env(kKeyB);
  rotate_env.push_back("ULAK_MASTER_KEY_PREVIOUS=" + kKeyA);
  auto [rotated, rotated_output] = RunUlak({"rotate-master-key", "--database", database}, rotate_env, dir_.path());
  ASSERT_EQ(rotated, 0) << rotated_output;
  EXPECT_TRUE(Contains(rotated_output, "re-sealed 2 secret value(s) (1 webhook(s), 1 source(s))")) << rotated_output;
  // Nothing left to do the second time.
  auto [again, again_output] = RunUlak({"rotate-master-key", "--database", database}, rotate_env, dir_.path());
  ASSERT_EQ(again, 0) << again_output;
  EXPECT_TRUE(Contains(again_output, "re-sealed 0 secret value(s)")) << again_output;

  // Only the new key from now on.
  ASSERT_NO_FATAL_FAILURE(StartWith(Env(kKeyB)));
  ASSERT_NO_FATAL_FAILURE(ExpectSecretsWork(secrets));
  ASSERT_NO_FATAL_FAILURE(Stop());
  const std::string raw = RawDatabase();
  EXPECT_FALSE(Contains(raw, secrets.secret_key));
  EXPECT_FALSE(Contains(raw, kStripeSecret));
}

}  // namespace
}  // namespace ulak::testing
