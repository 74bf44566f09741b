// What the multi-node end-to-end tests share (tests/e2e/multinode_e2e_test.cc and the
// PostgreSQL soak in tests/e2e/soak_e2e_test.cc): `ulak serve` nodes on one database of a
// throwaway PostgreSQL cluster (support/postgres_cluster.h), a sink on 127.0.0.1
// (support/sink.h), and the helpers that match the sink's requests to accepted publishes
// (events are numbered in their "data": {"n": N}).
#pragma once

#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/server_fixture.h"
#include "support/postgres_cluster.h"
#include "support/sink.h"

namespace ulak::testing::multinode {

using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Every node must open the secrets the others sealed: one master key for all.
inline const std::string kMasterKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

inline std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

inline json::value ParseOrNull(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

// A JSON member, or null when v is not an object or lacks it.
inline json::value Member(const json::value& v, const char* name) {
  if (!v.is_object()) return nullptr;
  const json::value* m = v.as_object().if_contains(name);
  return m != nullptr ? *m : json::value(nullptr);
}

// The event number a delivered body carries in data.n; -1 if none.
inline int EventNumber(const SinkRequest& r) {
  const json::value n = Member(Member(ParseOrNull(r.body), "data"), "n");
  return n.is_int64() ? static_cast<int>(n.as_int64()) : -1;
}

// Polls pred every 100 ms until it holds or the timeout passes; returns whether it held.
inline bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// What the sink received on one path, per event number.
struct Received {
  std::map<int, size_t> count;                       // requests per event
  std::map<int, std::set<std::string>> webhook_ids;  // webhook-id headers per event
  size_t total = 0;                                  // requests on the path
};

inline Received Summarize(const HttpSink& sink, const std::string& path) {
  Received out;
  for (const SinkRequest& r : sink.Requests(path)) {
    const int n = EventNumber(r);
    ++out.total;
    ++out.count[n];
    out.webhook_ids[n].insert(r.Header("webhook-id"));
  }
  return out;
}

// The accepted events the sink has not seen (yet).
inline std::vector<int> Missing(const Received& got, const std::set<int>& accepted) {
  std::vector<int> missing;
  for (int n : accepted) {
    if (got.count.find(n) == got.count.end()) missing.push_back(n);
  }
  return missing;
}

// Waits until every accepted event reached the sink at least once; returns the last summary.
inline Received WaitUntilDelivered(const HttpSink& sink, const std::string& path, const std::set<int>& accepted,
                            std::chrono::milliseconds timeout) {
  Received got;
  Eventually([&] {
    got = Summarize(sink, path);
    return Missing(got, accepted).empty();
  }, timeout);
  return got;
}

inline std::string Join(const std::vector<int>& v, size_t max = 20) {
  std::ostringstream out;
  for (size_t i = 0; i < v.size() && i < max; ++i) out << (i ? "," : "") << v[i];
  if (v.size() > max) out << ",... (" << v.size() << " in all)";
  return out.str();
}

// Duplicates among the accepted events: requests beyond the first per event, and events whose
// copies did not all carry the same webhook-id.
struct Duplicates {
  size_t extra_requests = 0;
  std::vector<int> unstable_ids;
};

inline Duplicates CountDuplicates(const Received& got, const std::set<int>& accepted) {
  Duplicates d;
  for (int n : accepted) {
    auto it = got.count.find(n);
    if (it == got.count.end()) continue;
    d.extra_requests += it->second - 1;
    if (got.webhook_ids.at(n).size() != 1) d.unstable_ids.push_back(n);
  }
  return d;
}

// Empty when r is a 503 with Retry-After and the API's error shape
// ({"error": {"code": "unavailable", "message": non-empty}}); otherwise what is wrong.
inline std::string UnavailableShapeProblem(const HttpResult& r) {
  if (r.status != 503) return "status " + std::to_string(r.status);
  if (r.Header("Retry-After").empty()) return "no Retry-After header";
  if (r.Header("Content-Type") != "application/json") return "Content-Type " + r.Header("Content-Type");
  const json::value v = ParseOrNull(r.body);
  const json::value err = Member(v, "error");
  if (!v.is_object() || v.as_object().size() != 1 || !err.is_object() || err.as_object().size() != 2) {
    return "not the error shape: " + r.body;
  }
  if (Member(err, "code") != json::value("unavailable")) return "code is not unavailable: " + r.body;
  if (Str(Member(err, "message")).empty()) return "empty message: " + r.body;
  return "";
}

class MultiNodeFixture : public ServerFixture {
 protected:
  // No SQLite server (ServerFixture's): each test starts its nodes on its own database.
  void SetUp() override {
    Result<PostgresCluster*> cluster = PostgresCluster::Shared();
    ASSERT_TRUE(cluster.ok()) << cluster.status().message();
    cluster_ = *cluster;
    Result<std::string> db = cluster_->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().message();
    conninfo_ = *db;
  }

  void TearDown() override {
    if (cluster_stopped_) {
      EXPECT_TRUE(cluster_->StartForTest().ok()) << "the cluster did not come back";
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!alive_[i]) continue;
      EXPECT_EQ(nodes_[i]->StopWith(SIGTERM), 0) << "node " << i + 1 << ":\n" << Tail(nodes_[i]->Stderr());
    }
    if (HasFailure()) {
      for (size_t i = 0; i < nodes_.size(); ++i) {
        std::cout << "---- node " << i + 1 << " stderr (tail) ----\n" << Tail(nodes_[i]->Stderr()) << "\n";
      }
    }
  }

  static std::string Tail(const std::string& s, size_t n = 4000) { return s.size() > n ? s.substr(s.size() - n) : s; }

  // Starts n nodes at once, so they also migrate the fresh database concurrently (the
  // advisory lock), then waits for each to listen.
  void StartNodes(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      nodes_.push_back(NewNode());
      alive_.push_back(true);
    }
    for (size_t i = 0; i < n; ++i) {
      ASSERT_GT(nodes_[i]->WaitForPort(), 0) << "node " << i + 1 << ":\n" << nodes_[i]->Stderr();
    }
  }

  // kill -9: no goodbye, its leases simply stop being renewed.
  void KillNode(size_t i) {
    EXPECT_EQ(nodes_[i]->StopWith(SIGKILL), 128 + SIGKILL);
    alive_[i] = false;
  }

  // Starts node i again (after KillNode) on the same database; it listens on a new port.
  // The stopped process is kept in retired_ so its stderr is still there for reading.
  void RestartNode(size_t i) {
    retired_.push_back(std::move(nodes_[i]));
    nodes_[i] = NewNode();
    alive_[i] = true;
    ASSERT_GT(nodes_[i]->WaitForPort(), 0) << "node " << i + 1 << " (restarted):\n" << nodes_[i]->Stderr();
  }

  std::unique_ptr<UlakProcess> NewNode() {
    std::vector<std::string> env{"ULAK_ADMIN_KEY=" + kAdminKey, "ULAK_MASTER_KEY=" + kMasterKey, "ULAK_LEASE_S=3"};
    env.insert(env.end(), extra_env_.begin(), extra_env_.end());
    return std::make_unique<UlakProcess>(
        std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--database", conninfo_, "--threads", "2"},
        std::move(env), dir_.path());
  }

  HttpResult CallNode(size_t i, const std::string& method, const std::string& path, const std::string& key,
                      const std::string& body = "") {
    std::vector<std::string> headers;
    if (!key.empty()) headers.push_back("Authorization: Bearer " + key);
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    return HttpRequest(method, nodes_[i]->BaseUrl() + path, headers, body);
  }

  // Creates the organization (through node `via`) the test works in.
  void CreateOrgVia(size_t via) {
    HttpResult r = CallNode(via, "POST", "/api/organizations", kAdminKey, R"({"name":"Kebab House"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const json::value v = Json(r);
    org_id_ = Str(Member(Member(v, "organization"), "id"));
    org_key_ = Str(Member(v, "api_key"));
    ASSERT_FALSE(org_id_.empty() || org_key_.empty()) << r.body;
  }

  // Creates a webhook through node `via` with the given extra fields; returns its id.
  std::string CreateWebhookVia(size_t via, const std::string& url, json::object extra = {}) {
    json::object body{{"organization_id", org_id_}, {"name", "CRM"}, {"url", url},
                      {"events", json::array{"order.created"}}};
    for (const auto& kv : extra) body[kv.key()] = kv.value();
    HttpResult r = CallNode(via, "POST", "/api/webhooks", org_key_, json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(Member(Member(Json(r), "webhook"), "id"));
  }

  // Publishes event number n (data {"n": n}) through node `via`, with event_id if given.
  HttpResult PublishVia(size_t via, int n, const std::string& event_id = "") {
    json::object body{{"organization_id", org_id_}, {"event", "order.created"}, {"data", json::object{{"n", n}}}};
    if (!event_id.empty()) body["event_id"] = event_id;
    return CallNode(via, "POST", "/api/events", org_key_, json::serialize(body));
  }

  json::value GetDeliveryVia(size_t via, const std::string& id) {
    HttpResult r = CallNode(via, "GET", "/api/deliveries/" + id, org_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return Member(Json(r), "delivery");
  }

  // Polls GET /api/deliveries/{id} on node `via` until it shows status (and attempts, if >= 0).
  bool WaitForDeliveryVia(size_t via, const std::string& id, const std::string& status, int64_t attempts = -1,
                          std::chrono::milliseconds timeout = 20s) {
    json::value d;
    const bool ok = Eventually([&] {
      d = GetDeliveryVia(via, id);
      return Member(d, "status") == json::value(status) &&
             (attempts < 0 || Member(d, "attempts") == json::value(attempts));
    }, timeout);
    EXPECT_TRUE(ok) << "delivery " << id << " never reached " << status << ": " << json::serialize(d);
    return ok;
  }

  // Polls node `via` until every delivery (by webhook-id) of the accepted events shows
  // "success": nothing delivered is left pending or retrying in the store (an outcome lost
  // on the way would leave it so, and it would be sent again). Returns those that never did.
  std::vector<std::string> NotSucceeded(size_t via, const Received& got, const std::set<int>& accepted,
                                        std::chrono::milliseconds timeout = 20s) {
    std::set<std::string> left;
    for (int n : accepted) {
      auto it = got.webhook_ids.find(n);
      if (it != got.webhook_ids.end()) left.insert(it->second.begin(), it->second.end());
    }
    std::map<std::string, std::string> last;  // id -> last delivery JSON seen
    Eventually([&] {
      for (auto it = left.begin(); it != left.end();) {
        const json::value d = GetDeliveryVia(via, *it);
        if (Member(d, "status") == json::value("success")) {
          last.erase(*it);
          it = left.erase(it);
        } else {
          last[*it] = json::serialize(d);
          ++it;
        }
      }
      return left.empty();
    }, timeout);
    std::vector<std::string> out;
    for (const auto& [id, d] : last) out.push_back(d);
    return out;
  }

  // ulak_deliveries_held from node i's /metrics: deliveries queued, waiting for a retry or in
  // flight on that node; -1 when it cannot be read.
  int64_t HeldOn(size_t i) {
    static const std::string kName = "ulak_deliveries_held ";
    HttpResult r = CallNode(i, "GET", "/metrics", "");
    if (r.status != 200) return -1;
    std::istringstream lines(r.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(kName, 0) == 0) return std::strtoll(line.c_str() + kName.size(), nullptr, 10);
    }
    return -1;
  }

  // Waits until no live node holds a delivery (HeldOn is 0 everywhere). Once every delivery of
  // the test is final in the store (success, failed, cancelled) and no node holds one, nothing
  // can be sent any more: what the sink has then is all it will get. So a test checks "sent
  // once" or "never sent" on that state, instead of sleeping for a while and hoping a late
  // copy would have shown by then.
  bool WaitUntilNoNodeHoldsAny(std::chrono::milliseconds timeout = 20s) {
    std::string held;
    const bool ok = Eventually([&] {
      held.clear();
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!alive_[i]) continue;
        const int64_t n = HeldOn(i);
        if (n != 0) held += " node " + std::to_string(i + 1) + ": " + std::to_string(n);
      }
      return held.empty();
    }, timeout);
    EXPECT_TRUE(ok) << "deliveries still held:" << held;
    return ok;
  }

  void Report(const std::string& name, double value, const std::string& line) {
    RecordProperty(name, std::to_string(value));
    std::cout << "[multinode] " << line << std::endl;
  }

  PostgresCluster* cluster_ = nullptr;
  std::string conninfo_;
  bool cluster_stopped_ = false;
  std::vector<std::unique_ptr<UlakProcess>> nodes_;
  std::vector<bool> alive_;
  std::vector<std::unique_ptr<UlakProcess>> retired_;  // killed nodes that were restarted
  std::vector<std::string> extra_env_;                 // NAME=VALUE for every node started
  std::string org_id_;
  std::string org_key_;
  HttpSink sink_;
};

}  // namespace ulak::testing::multinode
