// End-to-end tests of incoming webhooks (issue 5, SPEC §5-§6): the real `ulak serve` binary
// receives requests signed by the providers' own libraries, publishes what it accepts to a
// real HTTP sink (support/sink.h) through its outgoing webhooks, and exports the registry.
//
// Signatures come from outside C++: tests/e2e/incoming/sign.js runs Stripe's
// (`stripe.webhooks.generateTestHeaderString`), GitHub's (`@octokit/webhooks-methods` sign)
// and Standard Webhooks' (`standardwebhooks` sign) npm libraries, and Node's crypto for
// Shopify as Shopify documents it; tests/e2e/incoming/apple_sign.js signs App Store
// notifications with `jose` over a PKI that make_apple_pki.sh builds with the openssl CLI,
// and first has Apple's `@apple/app-store-server-library` verify each vector. The npm
// packages are installed, pinned, by scripts/install-test-node-deps.sh: as a ctest fixture
// and again by each test that needs them (a no-op then), so the binary can be run directly.
// Without node or npm these tests fail; they never skip. The script writes its answer to a
// file, so Node's warnings on stderr never mix with it, and the test sends the exact bytes
// that were signed with the C++ HTTP client.
//
// Timing: waits poll with generous timeouts; "nothing was published" is checked after the
// accepted request of the same test was delivered plus a short grace period, since every
// request of a test goes to the same subscriber in order.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <yaml-cpp/yaml.h>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/command.h"
#include "support/sink.h"

#ifndef ULAK_SOURCE_DIR
#error "tests/CMakeLists.txt defines ULAK_SOURCE_DIR for the e2e tests"
#endif
#ifndef ULAK_TEST_NODE_PREFIX
#error "tests/CMakeLists.txt defines ULAK_TEST_NODE_PREFIX for the e2e tests"
#endif

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const std::string kUnknownId = "01890000-0000-7000-8000-000000000000";
const std::string kBundleId = "com.example.kebabhouse";
// After the accepted request's delivery arrived: long enough for a wrongly published
// rejected request (sent before it) to have arrived too.
constexpr auto kGrace = 700ms;

// ---- small helpers ----

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

json::value ParseOrNull(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' is not in " << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t NowUnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Independent crypto (OpenSSL, not ulak's code): GitHub's header, for the rotation test.
std::string GithubSignature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static const char* kDigits = "0123456789abcdef";
  std::string hex = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kDigits[mac[i] >> 4]);
    hex.push_back(kDigits[mac[i] & 15]);
  }
  return hex;
}

// Header name → value, as sign.js returns them.
using HeaderMap = std::map<std::string, std::string>;

std::vector<std::string> HeaderLines(const HeaderMap& headers) {
  std::vector<std::string> out;
  for (const auto& [name, value] : headers) out.push_back(name + ": " + value);
  return out;
}

// One request to sign with sign.js.
struct SignJob {
  std::string provider;
  std::string body;
  std::string secret;
  std::optional<int64_t> timestamp;  // Unix seconds; none: now
  std::string id;                    // standard: webhook-id
};

class IncomingE2E : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    std::tie(org_id_, org_key_) = CreateOrg("Kebab House");
  }

  static std::string SourcePath(const std::string& relative) { return std::string(ULAK_SOURCE_DIR) + "/" + relative; }

  std::string WriteScratch(const std::string& name, const std::string& content) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // ---- Node ----

  // Installs the pinned npm packages (a no-op once there). Use with ASSERT_NO_FATAL_FAILURE.
  void InstallNodeDeps() {
    CommandResult r = RunCommand({"bash", SourcePath("scripts/install-test-node-deps.sh"), ULAK_TEST_NODE_PREFIX}, {},
                                 dir_.path(), 300s);
    ASSERT_EQ(r.exit_code, 0) << "installing the npm packages failed (node and npm are required):\n" << r.output;
  }

  // Runs tests/e2e/incoming/<script> INPUT_FILE OUTPUT_FILE and parses the output file.
  void RunNode(const std::string& script, const json::value& input, json::value* out) {
    const std::string stem = "node" + std::to_string(++node_runs_);
    const std::string in_path = WriteScratch(stem + ".in.json", json::serialize(input));
    const std::string out_path = dir_.path() + "/" + stem + ".out.json";
    CommandResult r =
        RunCommand({"node", SourcePath("tests/e2e/incoming/" + script), in_path, out_path},
                   {"NODE_PATH=" + std::string(ULAK_TEST_NODE_PREFIX) + "/node_modules"}, dir_.path(), 60s);
    ASSERT_EQ(r.exit_code, 0) << "node " << script << " failed:\n" << r.output;
    *out = ParseOrNull(ReadText(out_path));
    ASSERT_FALSE(out->is_null()) << script << " wrote no JSON; its output:\n" << r.output;
  }

  // Signs every job with the provider's library (sign.js); one header map per job.
  void Sign(const std::vector<SignJob>& jobs, std::vector<HeaderMap>* out) {
    json::array input;
    for (const SignJob& job : jobs) {
      json::object j{{"provider", job.provider},
                     {"body_file", WriteScratch("body" + std::to_string(++bodies_) + ".bin", job.body)},
                     {"secret", job.secret}};
      if (job.timestamp) j["timestamp"] = *job.timestamp;
      if (!job.id.empty()) j["id"] = job.id;
      input.push_back(std::move(j));
    }
    json::value result;
    ASSERT_NO_FATAL_FAILURE(RunNode("sign.js", input, &result));
    ASSERT_TRUE(result.is_array() && result.as_array().size() == jobs.size()) << json::serialize(result);
    out->clear();
    for (const json::value& h : result.as_array()) {
      HeaderMap headers;
      ASSERT_TRUE(h.is_object()) << json::serialize(result);
      for (const auto& kv : h.as_object()) headers[std::string(kv.key())] = Str(kv.value());
      out->push_back(std::move(headers));
    }
  }

  // ---- the API ----

  // Creates a source; returns its id. Use with ASSERT_NO_FATAL_FAILURE.
  void CreateSource(json::object body, std::string* id, const std::string& key = "") {
    if (!body.contains("organization_id")) body["organization_id"] = org_id_;
    if (!body.contains("name")) body["name"] = Str(body.at("provider")) + " source";
    HttpResult r = Call("POST", "/api/sources", key.empty() ? org_key_ : key, json::serialize(body));
    ASSERT_EQ(r.status, 201) << r.body;
    json::value v = Json(r);
    *id = Str(v.at("source").at("id"));
    ASSERT_FALSE(id->empty()) << r.body;
    EXPECT_EQ(v.at("source").at("url"), json::value("/api/incoming/" + *id)) << r.body;
    for (const json::value& secret : body.at("secrets").as_array()) {
      EXPECT_FALSE(Contains(r.body, Str(secret))) << "the create answer shows a secret: " << r.body;
    }
  }

  json::object GetSource(const std::string& id) {
    HttpResult r = Call("GET", "/api/sources/" + id, org_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    json::value v = Json(r);
    if (!v.is_object() || !v.as_object().contains("source")) return {};
    return v.at("source").as_object();
  }

  // Creates an outgoing webhook to the sink; returns its id.
  std::string CreateWebhook(const std::string& path, json::array events, json::object custom_headers = {},
                            const std::string& name = "n8n") {
    json::object body{
        {"organization_id", org_id_}, {"name", name}, {"url", sink_.Url(path)}, {"events", std::move(events)}};
    if (!custom_headers.empty()) body["custom_headers"] = std::move(custom_headers);
    HttpResult r = Call("POST", "/api/webhooks", org_key_, json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(Json(r).at("webhook").at("id"));
  }

  // Sends the exact bytes, with no credentials but the given headers.
  HttpResult Deliver(const std::string& path, const std::string& body, std::vector<std::string> headers) {
    headers.push_back("Content-Type: application/json");
    return HttpRequest("POST", server_->BaseUrl() + path, headers, body);
  }

  json::array IncomingLogs(const std::string& source_id, const std::string& status, const std::string& extra = "") {
    std::string path = "/api/incoming/logs?source_id=" + source_id + extra;
    if (!status.empty()) path += "&status=" + status;
    HttpResult r = Call("GET", path, org_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    json::value v = Json(r);
    if (!v.is_object() || !v.as_object().contains("requests") || !v.at("requests").is_array()) {
      ADD_FAILURE() << "no requests list: " << r.body;
      return {};
    }
    return v.at("requests").as_array();
  }

  // Checks an accepted answer: {"received": true, "duplicate", "event_id", "event"}.
  static json::object ExpectAccepted(const HttpResult& r, const std::string& event, bool duplicate) {
    EXPECT_EQ(r.status, 200) << r.body;
    json::value v = Json(r);
    if (!v.is_object()) return {};
    EXPECT_EQ(v.at("received"), true) << r.body;
    EXPECT_EQ(v.at("duplicate"), duplicate) << r.body;
    EXPECT_EQ(v.at("event"), json::value(event)) << r.body;
    EXPECT_FALSE(Str(v.at("event_id")).empty()) << r.body;
    return v.as_object();
  }

  // The rejected requests of a source: each with a reason, no body and no secret; the
  // source's rejected_count agrees.
  void ExpectRejectedLogged(const std::string& source_id, size_t n, const std::vector<std::string>& secrets) {
    const json::array rejected = IncomingLogs(source_id, "rejected");
    EXPECT_EQ(rejected.size(), n) << json::serialize(rejected);
    for (const json::value& row : rejected) {
      EXPECT_EQ(row.at("status"), "rejected");
      EXPECT_EQ(row.at("source_id"), json::value(source_id));
      EXPECT_FALSE(Str(row.at("reason")).empty()) << json::serialize(row);
      EXPECT_EQ(Str(row.at("body")), "") << "a rejected request's body was stored: " << json::serialize(row);
      EXPECT_TRUE(row.at("event_id").is_null()) << json::serialize(row);
      for (const std::string& secret : secrets) {
        EXPECT_FALSE(Contains(json::serialize(row), secret)) << "the log shows a secret: " << json::serialize(row);
      }
    }
    EXPECT_EQ(GetSource(source_id)["rejected_count"], json::value(static_cast<int64_t>(n)));
  }

  // One provider, signed by its own library: every forgery is rejected (nothing published,
  // each logged with a reason), then the genuine request is accepted and delivered.
  struct ProviderCase {
    std::string provider;
    std::string secret;
    std::string wrong_secret;
    bool timestamped = false;      // stripe and standard sign a timestamp
    std::string signature_header;  // the header a forger would drop or spoil
    std::string garbage;           // an unreadable value for it
    int rejection_status = 401;
    json::array event_map;
    std::string published_type;  // the ulak event type the genuine request becomes
    std::string provider_type;   // the provider's own type for it
    // The n-th request's body; each holds "amount":1000, which the tampering changes.
    std::function<std::string(int)> body;
    // Headers besides the signature's (the provider's id and type headers), if any.
    std::function<std::vector<std::string>(int)> extra_headers;
  };

  void RunProviderCase(const ProviderCase& c) {
    ASSERT_NO_FATAL_FAILURE(InstallNodeDeps());
    std::string source_id;
    json::object source{{"provider", c.provider}, {"secrets", json::array{c.secret}}};
    if (!c.event_map.empty()) source["event_map"] = c.event_map;
    ASSERT_NO_FATAL_FAILURE(CreateSource(source, &source_id));
    const std::string sink_path = "/" + c.provider;
    CreateWebhook(sink_path, {json::value(c.published_type)});

    enum { kValid, kTampered, kWrongSecret, kStale, kMissing, kGarbage, kCount };
    std::vector<SignJob> jobs;
    for (int n = 0; n < kCount; ++n) {
      SignJob job{c.provider, c.body(n), n == kWrongSecret ? c.wrong_secret : c.secret, std::nullopt,
                  "msg_" + c.provider + "_" + std::to_string(n)};
      if (n == kStale) job.timestamp = NowUnixSeconds() - 600;  // tolerance 300 s
      jobs.push_back(std::move(job));
    }
    std::vector<HeaderMap> signed_headers;
    ASSERT_NO_FATAL_FAILURE(Sign(jobs, &signed_headers));
    ASSERT_TRUE(signed_headers[kValid].contains(c.signature_header)) << c.signature_header;

    const std::string path = "/api/incoming/" + source_id;
    auto send = [&](int n, HeaderMap headers, const std::string& body) {
      std::vector<std::string> lines = HeaderLines(headers);
      if (c.extra_headers) {
        for (const std::string& h : c.extra_headers(n)) lines.push_back(h);
      }
      return Deliver(path, body, lines);
    };
    auto expect_rejected = [&](const char* what, const HttpResult& r, const std::string& reason_has) {
      SCOPED_TRACE(std::string(c.provider) + ": " + what);
      ExpectError(r, c.rejection_status, "invalid_signature");
      const std::string reason = Lower(Str(Json(r).at("error").at("message")));
      EXPECT_TRUE(reason_has.empty() || Contains(reason, reason_has)) << reason;
      EXPECT_FALSE(Contains(reason, Lower(c.secret)));
    };

    size_t rejected = 0;
    expect_rejected("tampered body",
                    send(kTampered, signed_headers[kTampered],
                         ReplaceOnce(jobs[kTampered].body, "\"amount\":1000", "\"amount\":9000")),
                    "signature");
    ++rejected;
    expect_rejected("wrong secret", send(kWrongSecret, signed_headers[kWrongSecret], jobs[kWrongSecret].body),
                    "signature");
    ++rejected;
    if (c.timestamped) {
      expect_rejected("stale timestamp", send(kStale, signed_headers[kStale], jobs[kStale].body), "tolerance");
      ++rejected;
    }
    HeaderMap missing = signed_headers[kMissing];
    missing.erase(c.signature_header);
    expect_rejected("missing header", send(kMissing, missing, jobs[kMissing].body), "missing");
    ++rejected;
    HeaderMap garbage = signed_headers[kGarbage];
    garbage[c.signature_header] = c.garbage;
    expect_rejected("garbage header", send(kGarbage, garbage, jobs[kGarbage].body), "header");
    ++rejected;

    // The genuine request, exactly as signed.
    HttpResult ok = send(kValid, signed_headers[kValid], jobs[kValid].body);
    const json::object accepted = ExpectAccepted(ok, c.published_type, false);

    ASSERT_TRUE(sink_.WaitForCount(sink_path, 1)) << "the accepted " << c.provider << " request was not delivered";
    std::this_thread::sleep_for(kGrace);
    ASSERT_EQ(sink_.Count(), 1u) << "a rejected request was published";
    const SinkRequest delivered = sink_.Requests(sink_path).at(0);
    json::value sent = ParseOrNull(delivered.body);
    ASSERT_TRUE(sent.is_object()) << delivered.body;
    EXPECT_EQ(sent.at("event"), json::value(c.published_type));
    EXPECT_EQ(sent.at("organization_id"), json::value(org_id_));
    EXPECT_EQ(sent.at("data"), ParseOrNull(jobs[kValid].body)) << "data is not the provider's payload";
    EXPECT_EQ(sent.at("metadata").at("provider"), json::value(c.provider)) << delivered.body;
    EXPECT_EQ(sent.at("metadata").at("source_id"), json::value(source_id)) << delivered.body;

    ASSERT_NO_FATAL_FAILURE(ExpectRejectedLogged(source_id, rejected, {c.secret, c.wrong_secret}));
    const json::array accepted_rows = IncomingLogs(source_id, "accepted");
    ASSERT_EQ(accepted_rows.size(), 1u) << json::serialize(accepted_rows);
    const json::value& row = accepted_rows[0];
    EXPECT_EQ(row.at("event_id"), accepted.at("event_id"));
    EXPECT_EQ(row.at("provider_event_type"), json::value(c.provider_type));
    EXPECT_FALSE(Str(row.at("provider_event_id")).empty());
    EXPECT_EQ(Str(row.at("body")), jobs[kValid].body) << "the raw body is not stored as received";
    EXPECT_TRUE(row.at("reason").is_null()) << json::serialize(row);
    EXPECT_FALSE(Contains(json::serialize(row), c.secret));
    EXPECT_TRUE(IncomingLogs(source_id, "duplicate").empty());
  }

  // A Stripe event, as Stripe sends it (UTF-8, exact bytes).
  static std::string StripeEvent(const std::string& id, const std::string& type, const std::string& object_json) {
    return R"({"id":")" + id + R"(","object":"event","api_version":"2024-06-20","created":)" +
           std::to_string(NowUnixSeconds()) + R"(,"livemode":false,"type":")" + type + R"(","data":{"object":)" +
           object_json + "}}";
  }

  std::string org_id_;
  std::string org_key_;
  HttpSink sink_;
  int node_runs_ = 0;
  int bodies_ = 0;
};

// ---- 1. each provider's own library signs; forgeries are rejected ----

TEST_F(IncomingE2E, StripeLibrarySignatureIsAcceptedAndForgeriesAreRejected) {
  ProviderCase c;
  c.provider = "stripe";
  c.secret = "whsec_kebabhouse0123456789abcdefghij";
  c.wrong_secret = "whsec_someoneelse0123456789abcdefgh";
  c.timestamped = true;
  c.signature_header = "Stripe-Signature";
  c.garbage = "t=not-a-time,v1=zz";
  c.rejection_status = 400;
  c.event_map = {json::object{{"match", "invoice.*"}, {"event", "payment_succeeded"}}};
  c.published_type = "payment_succeeded";
  c.provider_type = "invoice.paid";
  c.body = [](int n) {
    return StripeEvent(
        "evt_invoice_" + std::to_string(n), "invoice.paid",
        R"({"id":"in_1","object":"invoice","amount":1000,"currency":"try","customer_name":"Çiğdem Öztürk"})");
  };
  RunProviderCase(c);
}

TEST_F(IncomingE2E, GithubLibrarySignatureIsAcceptedAndForgeriesAreRejected) {
  ProviderCase c;
  c.provider = "github";
  c.secret = "It's a Secret to Everybody";
  c.wrong_secret = "It's a Secret to Nobody";
  c.signature_header = "X-Hub-Signature-256";
  c.garbage = "sha256=not-hex-at-all";
  c.published_type = "github.issues.opened";
  c.provider_type = "issues.opened";
  c.body = [](int n) {
    return R"({"action":"opened","issue":{"number":)" + std::to_string(n) +
           R"(,"title":"Menüde döner yok","amount":1000},"repository":{"full_name":"kebab/menu"}})";
  };
  c.extra_headers = [](int n) {
    return std::vector<std::string>{"X-GitHub-Event: issues",
                                    "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc095" + std::to_string(n),
                                    "User-Agent: GitHub-Hookshot/044aadd"};
  };
  RunProviderCase(c);
}

TEST_F(IncomingE2E, StandardWebhooksLibrarySignatureIsAcceptedAndForgeriesAreRejected) {
  ProviderCase c;
  c.provider = "standard";
  c.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  c.wrong_secret = "whsec_c29tZW9uZSBlbHNlJ3Mgc2VjcmV0IGtleQ==";
  c.timestamped = true;
  c.signature_header = "webhook-signature";
  c.garbage = "v1,%%%not-base64%%%";
  c.published_type = "standard.invoice.paid";
  c.provider_type = "invoice.paid";
  c.body = [](int n) {
    return R"({"type":"invoice.paid","timestamp":"2024-06-20T10:00:00Z","data":{"invoice":"INV-)" + std::to_string(n) +
           R"(","amount":1000,"customer":"Şükrü"}})";
  };
  RunProviderCase(c);
}

TEST_F(IncomingE2E, ShopifyNodeCryptoSignatureIsAcceptedAndForgeriesAreRejected) {
  ProviderCase c;
  c.provider = "shopify";
  c.secret = "shpss_0123456789abcdef0123456789abcdef";
  c.wrong_secret = "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";
  c.signature_header = "X-Shopify-Hmac-Sha256";
  c.garbage = "%%%not base64%%%";
  c.event_map = {json::object{{"match", "orders/create"}, {"event", "order.created"}}};
  c.published_type = "order.created";
  c.provider_type = "orders/create";
  c.body = [](int n) {
    return R"({"id":82098291194615)" + std::to_string(n) +
           R"(,"email":"ayse@example.com","total_price":"1000.00","amount":1000,"currency":"TRY",)"
           R"("line_items":[{"title":"Adana Dürüm","quantity":2}]})";
  };
  c.extra_headers = [](int n) {
    return std::vector<std::string>{"X-Shopify-Topic: orders/create",
                                    "X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd04" + std::to_string(n),
                                    "X-Shopify-Shop-Domain: kebab-house.myshopify.com",
                                    "X-Shopify-API-Version: 2024-07"};
  };
  RunProviderCase(c);
}

// ---- 2. App Store: a jose-signed JWS that Apple's own library accepts ----

TEST_F(IncomingE2E, AppleNotificationSignedWithJoseIsVerifiedLikeApplesLibraryAndDecoded) {
  ASSERT_NO_FATAL_FAILURE(InstallNodeDeps());
  const std::string pki = dir_.path() + "/pki";
  CommandResult made =
      RunCommand({"bash", SourcePath("tests/e2e/incoming/make_apple_pki.sh"), pki}, {}, dir_.path(), 60s);
  ASSERT_EQ(made.exit_code, 0) << "make_apple_pki.sh (openssl) failed:\n" << made.output;

  const int64_t now_ms = NowUnixMillis();
  auto notification = [&](const std::string& uuid, const std::string& bundle, const std::string& environment) {
    return json::object{{"notificationType", "SUBSCRIBED"},
                        {"subtype", "RESUBSCRIBE"},
                        {"notificationUUID", uuid},
                        {"version", "2.0"},
                        {"signedDate", now_ms},
                        {"data", json::object{{"appAppleId", 1234567890},
                                              {"bundleId", bundle},
                                              {"bundleVersion", "42"},
                                              {"environment", environment},
                                              {"status", 1}}}};
  };
  auto transaction = [&](const std::string& bundle, const std::string& environment) {
    return json::object{{"transactionId", "2000000812345678"},
                        {"originalTransactionId", "2000000800000001"},
                        {"webOrderLineItemId", "2000000099999999"},
                        {"bundleId", bundle},
                        {"productId", "com.example.kebabhouse.pro.monthly"},
                        {"subscriptionGroupIdentifier", "21000000"},
                        {"purchaseDate", now_ms - 1000},
                        {"originalPurchaseDate", now_ms - 86'400'000},
                        {"expiresDate", now_ms + 30LL * 86'400'000},
                        {"quantity", 1},
                        {"type", "Auto-Renewable Subscription"},
                        {"inAppOwnershipType", "PURCHASED"},
                        {"signedDate", now_ms},
                        {"environment", environment},
                        {"transactionReason", "PURCHASE"},
                        {"storefront", "TUR"},
                        {"storefrontId", "143480"},
                        {"price", 49990},
                        {"currency", "TRY"}};
  };
  auto renewal = [&](const std::string& environment) {
    return json::object{{"originalTransactionId", "2000000800000001"},
                        {"autoRenewProductId", "com.example.kebabhouse.pro.monthly"},
                        {"productId", "com.example.kebabhouse.pro.monthly"},
                        {"autoRenewStatus", 1},
                        {"signedDate", now_ms},
                        {"environment", environment},
                        {"recentSubscriptionStartDate", now_ms - 1000},
                        {"renewalDate", now_ms + 30LL * 86'400'000}};
  };
  const json::object check{{"bundle_id", kBundleId}, {"environment", "Sandbox"}};
  auto job = [&](const std::string& name, const std::string& leaf) {
    return json::object{{"name", name},
                        {"leaf", leaf},
                        {"intermediate", "intermediate"},
                        {"root", "root"},
                        {"alg", "ES256"},
                        {"notification", notification("uuid-" + name, kBundleId, "Sandbox")},
                        {"transaction", transaction(kBundleId, "Sandbox")},
                        {"renewal", renewal("Sandbox")},
                        {"check", check}};
  };
  json::array jobs;
  jobs.push_back(job("valid", "leaf"));
  json::object other_root = job("other_root", "other_leaf");
  other_root["intermediate"] = "other_intermediate";
  other_root["root"] = "other_root";
  jobs.push_back(other_root);
  jobs.push_back(job("missing_leaf_oid", "leaf_no_oid"));
  jobs.push_back(job("expired_leaf", "leaf_expired"));
  json::object es384 = job("es384", "leaf_p384");
  es384["alg"] = "ES384";
  jobs.push_back(es384);
  json::object hs256 = job("hs256", "leaf");
  hs256["alg"] = "HS256";
  jobs.push_back(hs256);
  json::object altered = job("altered_payload", "leaf");
  altered["alter"] = json::object{{"notificationType", "REFUND"}};
  jobs.push_back(altered);
  json::object wrong_bundle = job("wrong_bundle", "leaf");
  wrong_bundle["notification"] = notification("uuid-wrong_bundle", "com.example.someoneelse", "Sandbox");
  wrong_bundle["transaction"] = transaction("com.example.someoneelse", "Sandbox");
  jobs.push_back(wrong_bundle);
  json::object wrong_env = job("wrong_environment", "leaf");
  wrong_env["notification"] = notification("uuid-wrong_environment", kBundleId, "Production");
  wrong_env["transaction"] = transaction(kBundleId, "Production");
  wrong_env["renewal"] = renewal("Production");
  jobs.push_back(wrong_env);
  // A genuine notification carrying a transaction signed by someone else.
  json::object nested = job("forged_transaction", "leaf");
  nested["nested"] =
      json::object{{"leaf", "other_leaf"}, {"intermediate", "other_intermediate"}, {"root", "other_root"}};
  jobs.push_back(nested);

  json::value signed_out;
  ASSERT_NO_FATAL_FAILURE(
      RunNode("apple_sign.js", json::object{{"pki_dir", pki}, {"trusted_root", "root"}, {"jobs", jobs}}, &signed_out));
  ASSERT_TRUE(signed_out.is_object()) << json::serialize(signed_out);
  auto library = [&](const std::string& name) { return signed_out.at(name).at("library").as_object(); };

  // First, the vectors are real: Apple's SignedDataVerifier, trusting our root, accepts the
  // genuine one (notification, transaction and renewal info) and refuses the forgeries.
  // (ES384 is left out: that library lets jsonwebtoken pick the algorithm from the key, so
  // it takes ES384 from a P-384 leaf; App Store notifications are ES256 and ulak insists.)
  ASSERT_EQ(library("valid").at("accepted"), true) << json::serialize(library("valid"));
  EXPECT_EQ(library("valid").at("transaction"), json::value(transaction(kBundleId, "Sandbox")));
  EXPECT_EQ(library("valid").at("renewal"), json::value(renewal("Sandbox")));
  for (const char* forged : {"other_root", "missing_leaf_oid", "expired_leaf", "hs256", "altered_payload",
                             "wrong_bundle", "wrong_environment", "forged_transaction"}) {
    EXPECT_EQ(library(forged).at("accepted"), false) << forged << ": " << json::serialize(library(forged));
  }
  EXPECT_EQ(library("wrong_bundle").at("error"), "VerificationException INVALID_APP_IDENTIFIER");
  EXPECT_EQ(library("wrong_environment").at("error"), "VerificationException INVALID_ENVIRONMENT");
  EXPECT_EQ(library("expired_leaf").at("error"), "VerificationException INVALID_CERTIFICATE");

  // Then ulak, with the same root and identity, on seed 000's path for the default source.
  std::string source_id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(
      json::object{
          {"provider", "apple"},
          {"name", "App Store"},
          {"secrets", json::array{}},
          {"options", json::object{{"root_certificates", json::array{json::value(ReadText(pki + "/root.pem"))}},
                                   {"bundle_id", kBundleId},
                                   {"environment", "Sandbox"}}},
          {"event_map", json::array{json::object{{"match", "SUBSCRIBED.*"}, {"event", "subscription_started"}}}},
          {"default_for_provider", true}},
      &source_id));
  CreateWebhook("/apple", {"subscription_started"});
  auto send = [&](const std::string& name) {
    return Deliver("/api/webhooks/apple",
                   json::serialize(json::object{{"signedPayload", signed_out.at(name).at("signed_payload")}}), {});
  };

  const std::map<std::string, std::string> forgeries = {{"other_root", "chain"},
                                                        {"missing_leaf_oid", "1.2.840.113635.100.6.11.1"},
                                                        {"expired_leaf", "expired"},
                                                        {"es384", "es256"},
                                                        {"hs256", "es256"},
                                                        {"altered_payload", "signature"},
                                                        {"wrong_bundle", "bundleid"},
                                                        {"wrong_environment", "environment"},
                                                        {"forged_transaction", "signedtransactioninfo"}};
  for (const auto& [name, why] : forgeries) {
    SCOPED_TRACE("apple: " + name);
    HttpResult r = send(name);
    ExpectError(r, 400, "invalid_signature");
    // Rejected for the reason the vector was built for, not some accident of building it.
    const std::string reason = Lower(Str(Json(r).at("error").at("message")));
    EXPECT_TRUE(Contains(reason, why)) << reason;
  }
  const json::object accepted = ExpectAccepted(send("valid"), "subscription_started", false);

  ASSERT_TRUE(sink_.WaitForCount("/apple", 1)) << "the accepted notification was not delivered";
  std::this_thread::sleep_for(kGrace);
  ASSERT_EQ(sink_.Count(), 1u) << "a rejected notification was published";
  json::value sent = ParseOrNull(sink_.Requests("/apple").at(0).body);
  ASSERT_TRUE(sent.is_object());
  EXPECT_EQ(sent.at("event"), "subscription_started");
  const json::value& data = sent.at("data");
  EXPECT_EQ(data.at("notificationType"), "SUBSCRIBED");
  EXPECT_EQ(data.at("subtype"), "RESUBSCRIBE");
  EXPECT_EQ(data.at("notificationUUID"), "uuid-valid");
  EXPECT_EQ(data.at("data").at("bundleId"), json::value(kBundleId));
  EXPECT_EQ(data.at("data").at("transactionInfo"), json::value(transaction(kBundleId, "Sandbox")))
      << "the signed transaction is not decoded into data";
  EXPECT_EQ(data.at("data").at("renewalInfo"), json::value(renewal("Sandbox")));
  EXPECT_TRUE(data.at("data").at("signedTransactionInfo").is_string());

  ASSERT_NO_FATAL_FAILURE(ExpectRejectedLogged(source_id, forgeries.size(), {}));
  const json::array rows = IncomingLogs(source_id, "accepted");
  ASSERT_EQ(rows.size(), 1u) << json::serialize(rows);
  EXPECT_EQ(rows[0].at("provider_event_id"), "uuid-valid");
  EXPECT_EQ(rows[0].at("provider_event_type"), "SUBSCRIBED.RESUBSCRIBE");
  EXPECT_EQ(rows[0].at("event_id"), accepted.at("event_id"));
}

// ---- 3. Stripe → ulak → an n8n workflow subscribed to subscription_changed ----

TEST_F(IncomingE2E, StripeSubscriptionUpdatedReachesN8nWebhookWithItsSecretHeader) {
  ASSERT_NO_FATAL_FAILURE(InstallNodeDeps());
  const std::string secret = "whsec_n8nflow0123456789abcdefghijklm";
  std::string source_id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(
      json::object{{"provider", "stripe"},
                   {"name", "Stripe"},
                   {"secrets", json::array{json::value(secret)}},
                   {"event_map",
                    json::array{json::object{{"match", "customer.subscription.*"}, {"event", "subscription_changed"}},
                                json::object{{"match", "invoice.paid"}, {"event", "payment_succeeded"}}}},
                   {"default_for_provider", true}},
      &source_id));
  CreateWebhook("/n8n/subscription", {"subscription_changed"}, {{"X-Webhook-Secret", "n8n-shared-secret-42"}});
  CreateWebhook("/n8n/payment", {"payment_succeeded"}, {}, "payments");

  const std::string body = StripeEvent(
      "evt_1PsubUpdated", "customer.subscription.updated",
      R"({"id":"sub_1Pabc","object":"subscription","customer":"cus_Q1","status":"active",)"
      R"("items":{"data":[{"price":{"id":"price_pro","unit_amount":49990,"currency":"try"}}]}})");
  std::vector<HeaderMap> headers;
  ASSERT_NO_FATAL_FAILURE(Sign({{"stripe", body, secret, std::nullopt, ""}}, &headers));
  const json::object accepted =
      ExpectAccepted(Deliver("/api/webhooks/stripe", body, HeaderLines(headers[0])), "subscription_changed", false);

  ASSERT_TRUE(sink_.WaitForCount("/n8n/subscription", 1));
  const SinkRequest r = sink_.Requests("/n8n/subscription").at(0);
  EXPECT_EQ(r.Header("X-Webhook-Secret"), "n8n-shared-secret-42");
  EXPECT_FALSE(r.Header("X-Webhook-Signature").empty());
  json::value sent = ParseOrNull(r.body);
  ASSERT_TRUE(sent.is_object()) << r.body;
  EXPECT_EQ(sent.at("event"), "subscription_changed");
  EXPECT_EQ(sent.at("organization_id"), json::value(org_id_));
  EXPECT_EQ(sent.at("data"), ParseOrNull(body));
  EXPECT_EQ(sent.at("data").at("data").at("object").at("status"), "active");
  EXPECT_EQ(sent.at("metadata").at("provider_event_type"), "customer.subscription.updated") << r.body;
  EXPECT_EQ(sent.at("metadata").at("provider_event_id"), "evt_1PsubUpdated") << r.body;
  std::this_thread::sleep_for(kGrace);
  EXPECT_EQ(sink_.Count("/n8n/payment"), 0u) << "an unsubscribed webhook got the event";
  EXPECT_EQ(sink_.Count(), 1u);

  const json::array rows = IncomingLogs(source_id, "accepted");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("provider_event_id"), "evt_1PsubUpdated");
  EXPECT_EQ(rows[0].at("provider_event_type"), "customer.subscription.updated");
  EXPECT_EQ(rows[0].at("event_id"), accepted.at("event_id"));
  EXPECT_FALSE(Str(rows[0].at("headers").at("Stripe-Signature")).empty()) << json::serialize(rows[0]);
}

// ---- 4. Stripe delivers the same event twice: one published event ----

TEST_F(IncomingE2E, DuplicateStripeEventIdIsAnsweredTwiceAndPublishedOnce) {
  ASSERT_NO_FATAL_FAILURE(InstallNodeDeps());
  const std::string secret = "whsec_duplicates0123456789abcdefghij";
  std::string source_id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(
      json::object{{"provider", "stripe"},
                   {"secrets", json::array{json::value(secret)}},
                   {"event_map", json::array{json::object{{"match", "invoice.*"}, {"event", "payment_succeeded"}}}}},
      &source_id));
  CreateWebhook("/payments", {"payment_succeeded"});

  const std::string body = StripeEvent("evt_1Dup", "invoice.paid",
                                       R"({"id":"in_dup","object":"invoice","amount_paid":49990,"currency":"try"})");
  // Stripe's retry is signed anew: another timestamp, the same body.
  std::vector<HeaderMap> headers;
  ASSERT_NO_FATAL_FAILURE(Sign(
      {{"stripe", body, secret, NowUnixSeconds() - 30, ""}, {"stripe", body, secret, NowUnixSeconds(), ""}}, &headers));
  ASSERT_NE(headers[0].at("Stripe-Signature"), headers[1].at("Stripe-Signature"));
  const std::string path = "/api/incoming/" + source_id;
  const json::object first = ExpectAccepted(Deliver(path, body, HeaderLines(headers[0])), "payment_succeeded", false);
  ASSERT_TRUE(sink_.WaitForCount("/payments", 1));
  const json::object second = ExpectAccepted(Deliver(path, body, HeaderLines(headers[1])), "payment_succeeded", true);
  EXPECT_EQ(second.at("event_id"), first.at("event_id")) << "the duplicate names another event";
  std::this_thread::sleep_for(2 * kGrace);
  EXPECT_EQ(sink_.Count("/payments"), 1u) << "the duplicate was published again";

  const json::array accepted = IncomingLogs(source_id, "accepted");
  const json::array duplicate = IncomingLogs(source_id, "duplicate");
  ASSERT_EQ(accepted.size(), 1u) << json::serialize(accepted);
  ASSERT_EQ(duplicate.size(), 1u) << json::serialize(duplicate);
  EXPECT_EQ(accepted[0].at("provider_event_id"), "evt_1Dup");
  EXPECT_EQ(duplicate[0].at("provider_event_id"), "evt_1Dup");
  EXPECT_EQ(accepted[0].at("event_id"), first.at("event_id"));
  EXPECT_EQ(GetSource(source_id)["rejected_count"], 0);

  // Newest first, one per page.
  const json::array all = IncomingLogs(source_id, "");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].at("status"), "duplicate");
  EXPECT_EQ(all[1].at("status"), "accepted");
  HttpResult page1 =
      Call("GET", "/api/incoming/logs?limit=1&organization_id=" + org_id_ + "&source_id=" + source_id, org_key_);
  ASSERT_EQ(page1.status, 200) << page1.body;
  json::value p1 = Json(page1);
  ASSERT_EQ(p1.at("requests").as_array().size(), 1u);
  EXPECT_EQ(p1.at("requests").at(0).at("status"), "duplicate");
  EXPECT_EQ(p1.at("has_more"), true);
  HttpResult page2 = Call("GET",
                          "/api/incoming/logs?limit=1&organization_id=" + org_id_ + "&source_id=" + source_id +
                              "&cursor=" + Str(p1.at("next_cursor")),
                          org_key_);
  ASSERT_EQ(page2.status, 200) << page2.body;
  json::value p2 = Json(page2);
  ASSERT_EQ(p2.at("requests").as_array().size(), 1u) << page2.body;
  EXPECT_EQ(p2.at("requests").at(0).at("status"), "accepted");
  EXPECT_EQ(p2.at("has_more"), false);
}

// Issue 17: an accepted body is stored once (its event's payload holds the JSON; the request
// log only the sender's whitespace), yet the log shows every raw body byte for byte as
// received: pretty-printed as Stripe sends it, compact, with CRLF, tabs, escapes and number
// forms the payload writes otherwise (stored whole), and a repeat with other whitespace.
TEST_F(IncomingE2E, RawBodiesAreLoggedByteForByteWhateverTheirWhitespace) {
  ASSERT_NO_FATAL_FAILURE(InstallNodeDeps());
  const std::string secret = "whsec_rawbodies0123456789abcdefghij";
  std::string source_id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(
      json::object{{"provider", "stripe"},
                   {"secrets", json::array{json::value(secret)}},
                   {"event_map", json::array{json::object{{"match", "invoice.*"}, {"event", "payment_succeeded"}}}}},
      &source_id));
  CreateWebhook("/raw", {"payment_succeeded"});
  const std::string created = std::to_string(NowUnixSeconds());
  const std::vector<std::string> bodies = {
      "{\n  \"id\": \"evt_1Pretty\",\n  \"object\": \"event\",\n  \"created\": " + created +
          ",\n  \"data\": {\n    \"object\": {\n      \"customer_name\": \"Müşteri Öz\",\n      \"lines\": [\n"
          "        {\n          \"amount\": 49990,\n          \"metadata\": {}\n        }\n      ],\n"
          "      \"discounts\": []\n    }\n  },\n  \"livemode\": false,\n  \"type\": \"invoice.paid\"\n}\n",
      R"({"id":"evt_1Compact","object":"event","created":)" + created +
          R"(,"data":{"object":{"amount":100}},"type":"invoice.paid"})",
      "{\r\n\t\"id\": \"evt_1Odd\",\r\n\t\"type\": \"invoice.paid\",\r\n\t\"note\": \"\\u00fc \\/ caf\\u00e9\",\r\n"
      "\t\"rate\": 1.50,\r\n\t\"data\": {\"object\": {}}\r\n}",
      // A repeat of the first, with other whitespace: a duplicate, shown as it came.
      "{\"id\":\"evt_1Pretty\",\"object\":\"event\",\"type\":\"invoice.paid\",  \"data\":{\"object\":{}}}",
  };
  std::vector<SignJob> jobs;
  for (const std::string& body : bodies) jobs.push_back({"stripe", body, secret, std::nullopt, ""});
  std::vector<HeaderMap> headers;
  ASSERT_NO_FATAL_FAILURE(Sign(jobs, &headers));
  const std::string path = "/api/incoming/" + source_id;
  for (size_t i = 0; i < bodies.size(); ++i) {
    ExpectAccepted(Deliver(path, bodies[i], HeaderLines(headers[i])), "payment_succeeded", i == 3);
  }
  ASSERT_TRUE(sink_.WaitForCount("/raw", 3));
  for (const SinkRequest& delivered : sink_.Requests("/raw")) {
    const json::value sent = ParseOrNull(delivered.body);
    ASSERT_TRUE(sent.is_object()) << delivered.body;
    const json::value data = sent.at("data");
    bool matched = false;
    for (size_t i = 0; i < 3; ++i) matched = matched || data == ParseOrNull(bodies[i]);
    EXPECT_TRUE(matched) << "data is not one of the provider's payloads: " << delivered.body;
  }

  const json::array all = IncomingLogs(source_id, "");
  ASSERT_EQ(all.size(), bodies.size()) << json::serialize(all);
  for (size_t i = 0; i < bodies.size(); ++i) {
    const json::value& row = all[bodies.size() - 1 - i];  // newest first
    EXPECT_EQ(Str(row.at("body")), bodies[i]) << "request " << i << " is not logged as received";
    EXPECT_EQ(row.at("status"), i == 3 ? "duplicate" : "accepted");
  }
  // The same rows, one source's page at a time.
  const json::array accepted = IncomingLogs(source_id, "accepted");
  ASSERT_EQ(accepted.size(), 3u);
  EXPECT_EQ(Str(accepted[0].at("body")), bodies[2]);
  EXPECT_EQ(Str(accepted[2].at("body")), bodies[0]);
}

// ---- 5. The sources API: secrets stay hidden, rotate, stay in their organization ----

TEST_F(IncomingE2E, SourcesApiHidesSecretsRotatesThemAndScopesToTheOrganization) {
  const std::string old_secret = "github-secret-old-0123456789";
  const std::string new_secret = "github-secret-new-9876543210";
  std::string id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(
      json::object{{"provider", "github"}, {"name", "Menu repo"}, {"secrets", json::array{json::value(old_secret)}}},
      &id));
  auto expect_no_secret = [&](const HttpResult& r, const char* what) {
    EXPECT_FALSE(Contains(r.body, old_secret)) << what << " shows the old secret: " << r.body;
    EXPECT_FALSE(Contains(r.body, new_secret)) << what << " shows the new secret: " << r.body;
    EXPECT_FALSE(Contains(r.body, "\"secrets\"")) << what << " shows secrets: " << r.body;
  };
  HttpResult got = Call("GET", "/api/sources/" + id, org_key_);
  ASSERT_EQ(got.status, 200) << got.body;
  expect_no_secret(got, "GET");
  EXPECT_EQ(Json(got).at("source").at("secrets_count"), 1);
  EXPECT_EQ(Json(got).at("source").at("provider"), "github");
  HttpResult listed = Call("GET", "/api/sources?organization_id=" + org_id_, org_key_);
  ASSERT_EQ(listed.status, 200) << listed.body;
  expect_no_secret(listed, "list");
  ASSERT_EQ(Json(listed).at("sources").as_array().size(), 1u) << listed.body;

  int delivery = 0;
  auto send = [&](const std::string& secret) {
    const std::string body = R"({"action":"created","ref":"refs/heads/main","n":)" + std::to_string(++delivery) + "}";
    return Deliver("/api/incoming/" + id, body,
                   {"X-Hub-Signature-256: " + GithubSignature(secret, body), "X-GitHub-Event: create",
                    "X-GitHub-Delivery: rotation-" + std::to_string(delivery)});
  };
  EXPECT_EQ(send(old_secret).status, 200);
  EXPECT_EQ(send(new_secret).status, 401) << "a secret not yet added verifies";

  // Rotation: add the new secret; both verify. Remove the old one; only the new one does.
  HttpResult added =
      Call("PATCH", "/api/sources/" + id, org_key_, json::serialize(json::object{{"add_secret", new_secret}}));
  ASSERT_EQ(added.status, 200) << added.body;
  expect_no_secret(added, "PATCH add_secret");
  EXPECT_EQ(Json(added).at("source").at("secrets_count"), 2);
  EXPECT_EQ(send(old_secret).status, 200);
  EXPECT_EQ(send(new_secret).status, 200);
  HttpResult removed =
      Call("PATCH", "/api/sources/" + id, org_key_, json::serialize(json::object{{"remove_secret", old_secret}}));
  ASSERT_EQ(removed.status, 200) << removed.body;
  expect_no_secret(removed, "PATCH remove_secret");
  EXPECT_EQ(Json(removed).at("source").at("secrets_count"), 1);
  ExpectError(send(old_secret), 401, "invalid_signature");
  EXPECT_EQ(send(new_secret).status, 200);
  HttpResult renamed = Call("PATCH", "/api/sources/" + id, org_key_, R"({"name":"Menu repository"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  expect_no_secret(renamed, "PATCH name");
  EXPECT_EQ(Json(renamed).at("source").at("name"), "Menu repository");
  EXPECT_EQ(Json(renamed).at("source").at("secrets_count"), 1);
  EXPECT_EQ(GetSource(id)["rejected_count"], 2);
  EXPECT_EQ(IncomingLogs(id, "accepted").size(), 4u);
  const std::string all_logs =
      Call("GET", "/api/incoming/logs?organization_id=" + org_id_ + "&source_id=" + id, org_key_).body;
  EXPECT_FALSE(Contains(all_logs, old_secret) || Contains(all_logs, new_secret)) << all_logs;

  // Another organization's source: invisible to this organization's key.
  auto [other_id, other_key] = CreateOrg("Other Restaurant");
  std::string theirs;
  ASSERT_NO_FATAL_FAILURE(CreateSource(json::object{{"organization_id", other_id},
                                                    {"provider", "shopify"},
                                                    {"name", "Their shop"},
                                                    {"secrets", json::array{"shpss_theirs"}}},
                                       &theirs, other_key));
  ExpectError(Call("GET", "/api/sources/" + theirs, org_key_), 404, "not_found");
  ExpectError(Call("PATCH", "/api/sources/" + theirs, org_key_, R"({"name":"mine now"})"), 404, "not_found");
  ExpectError(Call("PATCH", "/api/sources/" + theirs, org_key_, R"({"add_secret":"planted"})"), 404, "not_found");
  ExpectError(Call("DELETE", "/api/sources/" + theirs, org_key_), 404, "not_found");
  ExpectError(Call("GET", "/api/incoming/logs?source_id=" + theirs, org_key_), 404, "not_found");
  ExpectError(Call("GET", "/api/sources?organization_id=" + other_id, org_key_), 403, "forbidden");
  ExpectError(Call("POST", "/api/sources", org_key_,
                   json::serialize(json::object{{"organization_id", other_id},
                                                {"provider", "github"},
                                                {"name", "Planted"},
                                                {"secrets", json::array{"x"}}})),
              403, "forbidden");
  HttpResult still = Call("GET", "/api/sources/" + theirs, other_key);
  ASSERT_EQ(still.status, 200) << still.body;
  EXPECT_EQ(Json(still).at("source").at("name"), "Their shop");
  EXPECT_EQ(Json(still).at("source").at("secrets_count"), 1);
  ExpectError(Call("GET", "/api/sources/" + kUnknownId, org_key_), 404, "not_found");
  EXPECT_EQ(Deliver("/api/incoming/" + kUnknownId, "{}", {}).status, 404);

  // Bad inputs: 422 naming the field, and nothing stored.
  const std::string list_path = "/api/sources?organization_id=" + org_id_;
  const std::string before = Call("GET", list_path, org_key_).body;
  auto expect_invalid = [&](json::object body, const std::string& field) {
    body["organization_id"] = org_id_;
    if (!body.contains("name")) body["name"] = "Bad";
    HttpResult r = Call("POST", "/api/sources", org_key_, json::serialize(body));
    SCOPED_TRACE(json::serialize(body));
    ExpectError(r, 422, "validation_error");
    EXPECT_TRUE(Contains(r.body, field)) << "the message does not name " << field << ": " << r.body;
  };
  expect_invalid({{"provider", "paypal"}, {"secrets", json::array{"x"}}}, "provider");
  expect_invalid({{"provider", "stripe"}, {"secrets", json::array{"sk_live_not_a_webhook_secret"}}}, "secrets");
  expect_invalid({{"provider", "stripe"}}, "secrets");
  expect_invalid({{"provider", "github"}, {"secrets", json::array{}}}, "secrets");
  expect_invalid(
      {{"provider", "hmac"}, {"secrets", json::array{"x"}}, {"options", json::object{{"algorithm", "sha256"}}}},
      "options.signature_header");
  expect_invalid(
      {{"provider", "apple"}, {"secrets", json::array{}}, {"options", json::object{{"environment", "Sandbox"}}}},
      "options.bundle_id");
  expect_invalid({{"provider", "github"}, {"secrets", json::array{"x"}}, {"options", json::object{{"colour", "red"}}}},
                 "options.colour");
  expect_invalid(
      {{"provider", "github"}, {"secrets", json::array{"x"}}, {"options", json::object{{"tolerance_s", 60}}}},
      "options.tolerance_s");
  expect_invalid({{"provider", "hmac"},
                  {"secrets", json::array{"x"}},
                  {"options", json::object{{"signature_header", "X-Sig"}, {"algorithm", "md5"}}}},
                 "options.algorithm");
  expect_invalid({{"provider", "github"}, {"secrets", json::array{"x"}}, {"event_map", json::array{"customer.*"}}},
                 "event_map");
  ExpectError(Call("PATCH", "/api/sources/" + id, org_key_, R"({"provider":"stripe"})"), 422, "validation_error");
  ExpectError(Call("PATCH", "/api/sources/" + id, org_key_, R"({"options":{"colour":"red"},"name":"Nope"})"), 422,
              "validation_error");
  ExpectError(Call("POST", "/api/sources", org_key_, "{\"provider\":"), 400, "invalid_json");
  EXPECT_EQ(Call("GET", list_path, org_key_).body, before) << "a rejected create or update stored something";

  // Deleted: gone from the API, and its URL no longer receives.
  HttpResult deleted = Call("DELETE", "/api/sources/" + id, org_key_);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  ExpectError(Call("GET", "/api/sources/" + id, org_key_), 404, "not_found");
  EXPECT_EQ(send(new_secret).status, 404);
}

// The logs of one source, named by source_id alone, for the admin and for the organization
// (a regression test: the organization was once read from a Source already destroyed).
TEST_F(IncomingE2E, IncomingLogsBySourceAloneNeedNoOrganization) {
  std::string id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(json::object{{"provider", "github"}, {"secrets", json::array{"s3cret"}}}, &id));
  EXPECT_EQ(Deliver("/api/incoming/" + id, "{}", {}).status, 401);
  for (const std::string& key : {kAdminKey, org_key_}) {
    HttpResult r = Call("GET", "/api/incoming/logs?source_id=" + id, key);
    ASSERT_EQ(r.status, 200) << r.body << r.error;
    EXPECT_EQ(Json(r).at("requests").as_array().size(), 1u) << r.body;
  }
}

// ---- 6. The registry: seed 000's YAML, from the API and from the CLI ----

TEST_F(IncomingE2E, RegistryListsSourcesAndWebhooksInCreationOrderAsYaml) {
  std::string stripe_id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(
      json::object{{"provider", "stripe"},
                   {"name", "Stripe"},
                   {"secrets", json::array{"whsec_registry0123456789"}},
                   {"event_map",
                    json::array{json::object{{"match", "customer.subscription.*"}, {"event", "subscription_changed"}},
                                json::object{{"match", "invoice.paid"}, {"event", "payment_succeeded"}}}}},
      &stripe_id));
  const std::string n8n = CreateWebhook("/n8n", {"subscription_changed", "payment_succeeded"}, {}, "n8n workflow");
  std::string apple_id;
  ASSERT_NO_FATAL_FAILURE(CreateSource(json::object{{"provider", "apple"},
                                                    {"name", "App Store"},
                                                    {"secrets", json::array{}},
                                                    {"options", json::object{{"bundle_id", kBundleId}}}},
                                       &apple_id));
  const std::string crm = CreateWebhook("/crm", {"order.*"}, {}, "CRM");
  HttpResult off = Call("PATCH", "/api/webhooks/" + crm, org_key_, R"({"is_active":false})");
  ASSERT_EQ(off.status, 200) << off.body;
  // Another organization's configuration: only in the unfiltered export.
  auto [other_id, other_key] = CreateOrg("Other Restaurant");
  std::string theirs;
  ASSERT_NO_FATAL_FAILURE(
      CreateSource(json::object{{"organization_id", other_id}, {"provider", "github"}, {"secrets", json::array{"gh"}}},
                   &theirs, other_key));

  struct Expected {
    std::string tip, endpoint, provider;
    std::vector<std::string> events;
    std::string durum;
  };
  const std::vector<Expected> ours = {
      {"incoming", "/api/incoming/" + stripe_id, "stripe", {"customer.subscription.*", "invoice.paid"}, "active"},
      {"outgoing", sink_.Url("/n8n"), "n8n workflow", {"subscription_changed", "payment_succeeded"}, "active"},
      {"incoming", "/api/incoming/" + apple_id, "apple", {"*"}, "active"},
      {"outgoing", sink_.Url("/crm"), "CRM", {"order.*"}, "inactive"},
  };
  auto check = [&](const std::string& yaml, const std::vector<Expected>& expected, const char* what) {
    SCOPED_TRACE(std::string(what) + ":\n" + yaml);
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(yaml);
    } catch (const YAML::Exception& e) {
      FAIL() << "not YAML: " << e.what();
    }
    ASSERT_EQ(docs.size(), expected.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      SCOPED_TRACE("document " + std::to_string(i + 1));
      const YAML::Node config = docs[i]["webhook_config"];
      ASSERT_TRUE(config && config.IsMap());
      EXPECT_EQ(config.size(), 6u) << "keys other than seed 000's";
      char id[32];
      std::snprintf(id, sizeof id, "WH-%03zu", i + 1);
      EXPECT_EQ(config["id"].as<std::string>(""), id);
      EXPECT_EQ(config["tip"].as<std::string>(""), expected[i].tip);
      EXPECT_EQ(config["endpoint"].as<std::string>(""), expected[i].endpoint);
      EXPECT_EQ(config["provider"].as<std::string>(""), expected[i].provider);
      ASSERT_TRUE(config["events"].IsSequence());
      EXPECT_EQ(config["events"].as<std::vector<std::string>>(), expected[i].events);
      EXPECT_EQ(config["durum"].as<std::string>(""), expected[i].durum);
    }
  };

  HttpResult api = Call("GET", "/api/registry", org_key_);
  ASSERT_EQ(api.status, 200) << api.body;
  EXPECT_EQ(api.Header("Content-Type").rfind("application/yaml", 0), 0u) << api.Header("Content-Type");
  check(api.body, ours, "GET /api/registry");
  EXPECT_TRUE(Contains(api.body, "id: \"WH-001\"")) << "ids are not quoted as in seed 000";
  HttpResult theirs_api = Call("GET", "/api/registry", other_key);
  ASSERT_EQ(theirs_api.status, 200) << theirs_api.body;
  check(theirs_api.body, {{"incoming", "/api/incoming/" + theirs, "github", {"*"}, "active"}}, "their registry");
  ExpectError(Call("GET", "/api/registry?organization_id=" + other_id, org_key_), 403, "forbidden");

  // The CLI reads the running server's database.
  const std::string database = "sqlite:" + DbPath();
  auto [code, out] = RunUlak({"registry", "--database", database, "--organization", org_id_}, {}, dir_.path());
  ASSERT_EQ(code, 0) << out;
  check(out, ours, "ulak registry --organization");
  auto [all_code, all_out] = RunUlak({"registry", "--database", database}, {}, dir_.path());
  ASSERT_EQ(all_code, 0) << all_out;
  std::vector<Expected> everything = ours;
  everything.push_back({"incoming", "/api/incoming/" + theirs, "github", {"*"}, "active"});
  check(all_out, everything, "ulak registry");
  HttpResult admin = Call("GET", "/api/registry", kAdminKey);
  ASSERT_EQ(admin.status, 200) << admin.body;
  check(admin.body, everything, "GET /api/registry as admin");
}

}  // namespace
}  // namespace ulak::testing
