// End-to-end tests of issue 15's defects on the real `ulak serve`: an incoming event type
// the API would refuse, an idempotency key reused with another body, readiness (and
// publishes) when the database file is removed or replaced under the running server, custom
// header values at rest and in answers, per-organization provider paths, and connections
// held beyond the descriptor limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/resource.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/sink.h"

namespace ulak::testing {
namespace {

namespace json = boost::json;

class ReliabilityE2E : public ServerFixture {};

TEST_F(ReliabilityE2E, AnIncomingEventTypeTheApiWouldRefuseIsRejectedWithAReason) {
  auto [org, key] = CreateOrg("kebab");
  HttpResult created = Call("POST", "/api/sources", key,
                            json::serialize(json::object{{"name", "n8n"}, {"provider", "header"},
                                                         {"secrets", json::array{"n8n-shared-secret-0123456789"}}}));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string source = std::string(Json(created).at("source").at("id").as_string());

  // "a b/../\u0000": a space, a path climb and a NUL.
  const std::string body = R"({"type":"a b/../\u0000","order":1})";
  HttpResult r = Call("POST", "/api/incoming/" + source, "", body, {"X-Webhook-Secret: n8n-shared-secret-0123456789"});
  ExpectError(r, 400, "invalid_event_type");
  EXPECT_NE(r.body.find("event_map"), std::string::npos) << r.body;

  HttpResult logs = Call("GET", "/api/incoming/logs?source_id=" + source, key);
  ASSERT_EQ(logs.status, 200) << logs.body;
  const json::value listed = Json(logs);
  const json::array& rows = listed.at("requests").as_array();
  ASSERT_EQ(rows.size(), 1u) << logs.body;
  EXPECT_EQ(rows[0].at("status").as_string(), "rejected");
  EXPECT_NE(std::string(rows[0].at("reason").as_string()).find("is not valid"), std::string::npos);
  EXPECT_EQ(rows[0].at("provider_event_type").as_string(), "a b/../\\u0000");  // escaped, never a raw NUL

  // A valid type from the same sender is accepted.
  HttpResult ok = Call("POST", "/api/incoming/" + source, "", R"({"type":"order.paid"})",
                       {"X-Webhook-Secret: n8n-shared-secret-0123456789"});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Json(ok).at("event").as_string(), "header.order.paid");
}

TEST_F(ReliabilityE2E, AnIdempotencyKeyReusedWithAnotherBodyIsAConflict) {
  auto [org, key] = CreateOrg("kebab");
  const std::string first = R"({"event":"order.created","data":{"id":1,"total":10}})";
  HttpResult a = Call("POST", "/api/events", key, first, {"Idempotency-Key: order-1"});
  ASSERT_EQ(a.status, 202) << a.body;
  // The same body (keys in another order) is the same request: the first result again.
  HttpResult same = Call("POST", "/api/events", key, R"({"data":{"total":10,"id":1},"event":"order.created"})",
                         {"Idempotency-Key: order-1"});
  ASSERT_EQ(same.status, 202) << same.body;
  EXPECT_EQ(same.Header("Idempotent-Replayed"), "true");
  EXPECT_EQ(Json(same).at("event").at("id"), Json(a).at("event").at("id"));
  // Another body, another type, or other metadata under the same key: 409.
  ExpectError(Call("POST", "/api/events", key, R"({"event":"order.created","data":{"id":1,"total":99}})",
                   {"Idempotency-Key: order-1"}),
              409, "idempotency_conflict");
  ExpectError(Call("POST", "/api/events", key, R"({"event":"order.deleted","data":{"id":1,"total":10}})",
                   {"Idempotency-Key: order-1"}),
              409, "idempotency_conflict");
  ExpectError(Call("POST", "/api/events", key,
                   R"({"event":"order.created","data":{"id":1,"total":10},"metadata":{"x":1}})",
                   {"Idempotency-Key: order-1"}),
              409, "idempotency_conflict");
  // event_id in the body is the same key.
  ExpectError(Call("POST", "/api/events", key, R"({"event":"order.created","event_id":"order-1","data":{}})"), 409,
              "idempotency_conflict");
}

TEST_F(ReliabilityE2E, ReadyzAndPublishesAnswer503WhenTheDatabaseFileIsReplaced) {
  auto [org, key] = CreateOrg("kebab");
  const std::string event = R"({"event":"order.created","data":{"id":1}})";
  ASSERT_EQ(Call("GET", "/readyz", "").status, 200);
  ASSERT_EQ(Call("POST", "/api/events", key, event).status, 202);

  // A restore done carelessly: the file at the path is now another file (another inode).
  std::filesystem::copy_file(DbPath(), DbPath() + ".copy");
  std::filesystem::rename(DbPath() + ".copy", DbPath());
  HttpResult ready = Call("GET", "/readyz", "");
  ExpectError(ready, 503, "unavailable");
  EXPECT_NE(ready.body.find("replaced"), std::string::npos) << ready.body;
  EXPECT_EQ(ready.Header("Retry-After"), "1");
  HttpResult publish = Call("POST", "/api/events", key, event);
  ExpectError(publish, 503, "unavailable");
  EXPECT_EQ(publish.Header("Retry-After"), "1");

  // Removed altogether: the same.
  std::filesystem::remove(DbPath());
  HttpResult gone = Call("GET", "/readyz", "");
  ExpectError(gone, 503, "unavailable");
  EXPECT_NE(gone.body.find("removed"), std::string::npos) << gone.body;
  ExpectError(Call("POST", "/api/events", key, event), 503, "unavailable");
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);  // alive, only not ready
}


TEST_F(ReliabilityE2E, CustomHeaderValuesAreEncryptedAtRestAndMaskedByTheApi) {
  auto [org, key] = CreateOrg("kebab");
  const std::string secret = "sk_live_customheader_1234567890";
  HttpResult created = Call("POST", "/api/webhooks", key,
                            json::serialize(json::object{{"name", "crm"},
                                                         {"url", "http://127.0.0.1:9/hook"},
                                                         {"events", json::array{"order.*"}},
                                                         {"custom_headers", json::object{{"X-API-Key", secret}}}}));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find(secret), std::string::npos) << created.body;
  const std::string id = std::string(Json(created).at("webhook").at("id").as_string());
  HttpResult got = Call("GET", "/api/webhooks/" + id, key);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Json(got).at("webhook").at("custom_headers").at("X-API-Key").as_string(), "\u2022\u2022\u2022\u20227890");

  // Sending the mask back keeps the stored value; a mask of nothing stored is refused.
  HttpResult patched = Call("PATCH", "/api/webhooks/" + id, key,
                            json::serialize(json::object{{"custom_headers", json::object{{"X-API-Key", "\u2022\u2022\u2022\u20227890"},
                                                                                         {"X-Tenant", "kebab-house-01"}}}}));
  ASSERT_EQ(patched.status, 200) << patched.body;
  const json::value after = Json(Call("GET", "/api/webhooks/" + id, key));
  EXPECT_EQ(after.at("webhook").at("custom_headers").at("X-API-Key").as_string(), "\u2022\u2022\u2022\u20227890");
  EXPECT_EQ(after.at("webhook").at("custom_headers").at("X-Tenant").as_string(), "\u2022\u2022\u2022\u2022e-01");
  ExpectError(Call("PATCH", "/api/webhooks/" + id, key,
                   json::serialize(json::object{{"custom_headers", json::object{{"X-API-Key", "\u2022\u2022\u2022\u20221111"}}}})),
              422, "validation_error");

  // Nothing in the database files holds the value in clear.
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    if (entry.path().filename().string().rfind("ulak.db", 0) != 0) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find("kebab-house-01"), std::string::npos);
}


std::string StripeSignature(const std::string& secret, const std::string& body) {
  const std::string t = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count());
  const std::string signed_payload = t + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_payload.data()), signed_payload.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 15];
  }
  return "t=" + t + ",v1=" + hex;
}

TEST_F(ReliabilityE2E, EachOrganizationHasItsOwnProviderPathAndTheConflictRevealsNoOtherOrganization) {
  auto [org_a, key_a] = CreateOrg("a");
  auto [org_b, key_b] = CreateOrg("b");
  const std::string secret_a = "whsec_orgAsecret0123456789abcdefghij";
  const std::string secret_b = "whsec_orgBsecret0123456789abcdefghij";
  auto source = [](const std::string& secret, bool is_default) {
    return json::serialize(json::object{{"name", "stripe"}, {"provider", "stripe"},
                                        {"secrets", json::array{secret.c_str()}},
                                        {"default_for_provider", is_default}});
  };
  HttpResult a = Call("POST", "/api/sources", key_a, source(secret_a, true));
  ASSERT_EQ(a.status, 201) << a.body;
  const std::string source_a = std::string(Json(a).at("source").at("id").as_string());

  HttpResult claim = Call("POST", "/api/sources", key_b, source(secret_b, true));
  ExpectError(claim, 409, "conflict");
  EXPECT_EQ(claim.body.find(org_a), std::string::npos) << claim.body;
  EXPECT_EQ(claim.body.find(source_a), std::string::npos) << claim.body;
  EXPECT_NE(claim.body.find("/api/webhooks/stripe/" + org_b), std::string::npos) << claim.body;
  // Organization A's own second claim names its own source.
  HttpResult again = Call("POST", "/api/sources", key_a, source(secret_a, true));
  ExpectError(again, 409, "conflict");
  EXPECT_NE(again.body.find(source_a), std::string::npos) << again.body;

  ASSERT_EQ(Call("POST", "/api/sources", key_b, source(secret_b, false)).status, 201);
  const std::string body = R"({"id":"evt_b_1","type":"invoice.paid","data":{"object":{"id":"in_1"}}})";
  HttpResult to_b = Call("POST", "/api/webhooks/stripe/" + org_b, "", body,
                         {"Stripe-Signature: " + StripeSignature(secret_b, body)});
  ASSERT_EQ(to_b.status, 200) << to_b.body;
  EXPECT_EQ(Json(to_b).at("event").as_string(), "stripe.invoice.paid");
  HttpResult logs = Call("GET", "/api/incoming/logs", key_b);
  EXPECT_NE(logs.body.find("evt_b_1"), std::string::npos) << logs.body;
  // B's secret does not open A's paths, and A's default path still serves A.
  EXPECT_EQ(Call("POST", "/api/webhooks/stripe/" + org_a, "", body,
                 {"Stripe-Signature: " + StripeSignature(secret_b, body)}).status, 400);
  EXPECT_EQ(Call("POST", "/api/webhooks/stripe", "", body, {"Stripe-Signature: " + StripeSignature(secret_a, body)}).status,
            200);
  ExpectError(Call("POST", "/api/webhooks/stripe/no-such-organization", "", body,
                   {"Stripe-Signature: " + StripeSignature(secret_b, body)}), 404, "not_found");
}


// A raw keep-alive connection: opened before the flood, it is one of the server's open
// connections and can keep talking while new ones are refused.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{};
    tv.tv_sec = 10;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool connected() const { return connected_; }
  // Sends one request and returns the status code of its answer (0: closed or timed out).
  int Request(const std::string& method, const std::string& path, const std::string& key, const std::string& body,
              std::string* answer = nullptr) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\n";
    if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return 0;
    std::string got;
    char buf[4096];
    for (;;) {
      const size_t head_end = got.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const size_t at = got.find("Content-Length: ");
        const size_t length = at == std::string::npos || at > head_end ? 0 : std::stoul(got.substr(at + 16));
        if (got.size() >= head_end + 4 + length) break;
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return 0;
      got.append(buf, static_cast<size_t>(n));
    }
    if (answer != nullptr) *answer = got.substr(got.find("\r\n\r\n") + 4);
    return got.size() > 12 ? std::stoi(got.substr(9, 3)) : 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST_F(ReliabilityE2E, HeldConnectionsBeyondTheDescriptorLimitStarveNothing) {
  HttpSink sink;
  auto [org, key] = CreateOrg("kebab");
  ASSERT_EQ(Call("POST", "/api/webhooks", key,
                 json::serialize(json::object{{"name", "crm"}, {"url", sink.Url("/hook")},
                                              {"events", json::array{"order.*"}}})).status, 201);
  // Restart the same database under `ulimit -n 300` (the child inherits the soft limit).
  ASSERT_EQ(server_->StopWith(SIGTERM), 0);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 300;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  server_ = std::make_unique<UlakProcess>(ServeArgs(), std::vector<std::string>{"ULAK_ADMIN_KEY=" + kAdminKey},
                                          dir_.path());
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  const int port = server_->WaitForPort();
  ASSERT_GT(port, 0) << server_->Stderr();

  RawConnection mine(port);
  ASSERT_TRUE(mine.connected());
  ASSERT_EQ(mine.Request("GET", "/healthz", "", ""), 200);
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 600; ++i) flood.push_back(std::make_unique<RawConnection>(port));
  // While they are held, the server still publishes (its database) and delivers (a socket to
  // the receiver): the flood got at most max_connections descriptors.
  EXPECT_EQ(mine.Request("POST", "/api/events", key, R"({"event":"order.created","data":{"id":1}})"), 202);
  EXPECT_TRUE(sink.WaitForCount("/hook", 1)) << server_->Stderr();
  EXPECT_EQ(mine.Request("GET", "/healthz", "", ""), 200);
  // Every flood connection was accepted by the kernel; ulak accepts each in turn and closes
  // those beyond its limit at once: all but about 177 are counted as refused.
  uint64_t refused = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (refused < 400 && std::chrono::steady_clock::now() < deadline) {
    std::string metrics;
    ASSERT_EQ(mine.Request("GET", "/metrics", "", "", &metrics), 200);
    const std::string name = "\nulak_connections_refused_total ";
    const size_t at = metrics.find(name);
    ASSERT_NE(at, std::string::npos);
    refused = std::stoull(metrics.substr(at + name.size()));
    if (refused < 400) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(refused, 400u) << "600 held under a limit of 177";
  flood.clear();
  // Their slots free as the server sees them close.
  int status = 0;
  for (int i = 0; i < 200 && status != 200; ++i) status = Call("GET", "/healthz", "").status;
  EXPECT_EQ(status, 200);
}


// Issue 15's anchor, Convoy #1667 / #1811 (retries that silently stop): a retry scheduled
// before the server stops still fires after an upgrade that applies a migration at start.
// The upgrade is simulated by taking the newest migration (0012, dead_outcomes) out of the
// stopped server's database, so the next start applies it.
TEST_F(ReliabilityE2E, ARetryScheduledBeforeAnUpgradeMigrationStillFires) {
  HttpSink sink;
  sink.SetBehaviour("/upgrade", SinkBehaviour::Statuses({500, 200}));
  auto [org, key] = CreateOrg("kebab");
  HttpResult created = Call("POST", "/api/webhooks", key,
                            json::serialize(json::object{{"name", "crm"},
                                                         {"url", sink.Url("/upgrade")},
                                                         {"events", json::array{"order.*"}},
                                                         {"max_retries", 1},
                                                         {"retry_policy", json::object{{"kind", "custom"},
                                                                                       {"delays_s", json::array{3}}}}}));
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(Call("POST", "/api/events", key, R"({"event":"order.created","data":{"id":1}})").status, 202);
  ASSERT_TRUE(sink.WaitForCount("/upgrade", 1));
  // The failed try is logged (its retry scheduled) before the server stops.
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    logged = Call("GET", "/api/webhooks/logs", key).body.find("\"retrying\"") != std::string::npos;
  }
  ASSERT_TRUE(logged);
  ASSERT_EQ(server_->StopWith(SIGTERM), 0);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, "DROP TABLE dead_outcomes; DELETE FROM schema_migrations WHERE version = 12;", nullptr,
                         nullptr, &error),
            SQLITE_OK)
      << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);

  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(sink.WaitForCount("/upgrade", 2)) << "the retry never fired after the upgrade";
  const std::vector<SinkRequest> got = sink.Requests("/upgrade");
  EXPECT_EQ(got[0].Header("webhook-id"), got[1].Header("webhook-id"));
  bool delivered = false;
  for (int i = 0; i < 100 && !delivered; ++i) {
    delivered = Call("GET", "/api/webhooks/logs?status=success", key).body.find("\"success\"") != std::string::npos;
  }
  EXPECT_TRUE(delivered);
  // The migration really ran again.
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "SELECT COUNT(*) FROM dead_outcomes", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace
}  // namespace ulak::testing
