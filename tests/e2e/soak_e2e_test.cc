// The soak of issue 15 (SQLite): load for ULAK_SOAK_SECONDS with 10 random `kill -9`s of
// the server, two healthy endpoints and a dead one. Asserts 0 accepted events lost and
// prints events accepted, delivered, duplicates and the last server's memory. Skipped unless
// ULAK_SOAK_SECONDS is set: `make test-reliability` runs it for 120 s (docs/RELIABILITY.md).
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "e2e/server_fixture.h"
#include "support/sink.h"

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

int EventNumber(const SinkRequest& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return -1;
  const json::value* data = v.as_object().if_contains("data");
  if (data == nullptr || !data->is_object()) return -1;
  const json::value* n = data->as_object().if_contains("n");
  return n != nullptr && n->is_int64() ? static_cast<int>(n->as_int64()) : -1;
}

class SoakE2E : public ServerFixture {};

TEST_F(SoakE2E, KillNineUnderLoadLosesNoAcceptedEvent) {
  const char* seconds_env = std::getenv("ULAK_SOAK_SECONDS");
  if (seconds_env == nullptr) GTEST_SKIP() << "set ULAK_SOAK_SECONDS (make test-reliability)";
  const auto duration = std::chrono::seconds(std::stoi(seconds_env));
  HttpSink sink;
  auto [org, key] = CreateOrg("soak");
  for (const std::string& url : {sink.Url("/a"), sink.Url("/b"), std::string("http://127.0.0.1:9/dead")}) {
    ASSERT_EQ(Call("POST", "/api/webhooks", key,
                   json::serialize(json::object{{"name", "w"}, {"url", url}, {"events", json::array{"order.*"}},
                                                {"retry_policy", json::object{{"kind", "custom"},
                                                                              {"delays_s", json::array{1, 2, 4}}}}}))
                  .status,
              201);
  }

  std::mutex mu;
  std::string base = server_->BaseUrl();  // GUARDED_BY(mu): changes at each restart
  std::set<int> accepted;                 // GUARDED_BY(mu)
  std::atomic<int> next{0};
  std::atomic<int> gave_up{0};
  std::atomic<bool> stop{false};
  const auto publish = [&] {
    while (!stop) {
      const int n = next++;
      const std::string body = json::serialize(json::object{{"event", "order.created"}, {"data", json::object{{"n", n}}}});
      const auto deadline = SteadyClock::now() + 30s;
      bool ok = false;
      while (!ok && SteadyClock::now() < deadline) {
        std::string url;
        {
          std::lock_guard lock(mu);
          url = base;
        }
        HttpResult r = HttpRequest("POST", url + "/api/events",
                                   {"Authorization: Bearer " + key, "Content-Type: application/json",
                                    "Idempotency-Key: soak-" + std::to_string(n)},
                                   body);
        ok = r.status == 202;
        if (!ok) std::this_thread::sleep_for(100ms);
      }
      if (ok) {
        std::lock_guard lock(mu);
        accepted.insert(n);
      } else {
        ++gave_up;
      }
      std::this_thread::sleep_for(20ms);  // about 50 events/s per thread
    }
  };
  std::vector<std::thread> publishers;
  for (int i = 0; i < 2; ++i) publishers.emplace_back(publish);

  std::mt19937 rng(15);
  const auto start = SteadyClock::now();
  const auto kill_every = duration / 11;
  int kills = 0;
  while (kills < 10) {
    std::this_thread::sleep_for(kill_every + std::chrono::milliseconds(rng() % 1000));
    EXPECT_EQ(server_->StopWith(SIGKILL), 128 + SIGKILL);
    ++kills;
    ASSERT_NO_FATAL_FAILURE(Start());
    std::lock_guard lock(mu);
    base = server_->BaseUrl();
  }
  while (SteadyClock::now() - start < duration) std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& t : publishers) t.join();

  // Drain: every accepted event reaches both healthy endpoints.
  std::map<std::string, std::map<int, int>> got;
  const auto drain_deadline = SteadyClock::now() + 120s;
  size_t lost = 0;
  do {
    std::this_thread::sleep_for(500ms);
    got.clear();
    for (const std::string path : {"/a", "/b"}) {
      for (const SinkRequest& r : sink.Requests(path)) ++got[path][EventNumber(r)];
    }
    lost = 0;
    for (int n : accepted) lost += (got["/a"].count(n) ? 0 : 1) + (got["/b"].count(n) ? 0 : 1);
  } while (lost > 0 && SteadyClock::now() < drain_deadline);
  size_t duplicates = 0;
  size_t delivered = 0;
  for (auto& [path, counts] : got) {
    for (auto& [n, c] : counts) {
      if (!accepted.count(n)) continue;
      ++delivered;
      duplicates += static_cast<size_t>(c - 1);
    }
  }
  std::cout << "[soak] " << duration.count() << " s, " << kills << " kill -9, events accepted " << accepted.size()
            << ", publishes given up " << gave_up.load() << ", deliveries to healthy endpoints " << delivered
            << " (expected " << 2 * accepted.size() << "), duplicates " << duplicates << ", lost " << lost << "\n";
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

}  // namespace
}  // namespace ulak::testing
