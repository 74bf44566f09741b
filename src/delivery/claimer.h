// Claimer: feeds the engine when several nodes share one database (SPEC §11).
//
// Every node claims due deliveries no live lease holds (a crashed node's work once its
// leases expire, retries and replays nobody holds) with FOR UPDATE SKIP LOCKED, renews the
// leases of what it holds, and wakes at once when another node announces unclaimed work
// (LISTEN/NOTIFY), polling only as a fallback. What a node publishes it claims itself at
// insert time (Publisher), so new events never wait for a claim round trip.
//
// Threads: runs on its own thread; it hands the engine claimed work by batch (Enqueue posts
// to the delivery loop) and asks the loop which webhooks it holds (HeldWebhooks).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/clock.h"
#include "delivery/engine.h"
#include "store/store.h"

namespace ulak::delivery {

struct ClaimerOptions {
  std::chrono::milliseconds poll_interval{1000};
  int batch = 500;           // deliveries per claim
  size_t max_held = 20'000;  // claims stop while the engine holds this many
  std::chrono::milliseconds config_ttl{2000};  // other nodes may change webhooks
};

class Claimer {
 public:
  // REQUIRES: engine.options().SharedWork().
  Claimer(store::Store& store, DeliveryEngine& engine, const Clock& clock, ClaimerOptions options = {});
  ~Claimer();
  Claimer(const Claimer&) = delete;
  Claimer& operator=(const Claimer&) = delete;

  void Start();
  void Stop();  // idempotent

 private:
  struct CachedConfig {
    ConfigPtr config;  // null: deleted
    TimePoint loaded_at;
  };
  void Run();
  // One round: renew leases if due, claim up to capacity. Returns how many were claimed.
  size_t Round(TimePoint& next_renewal);
  // Webhooks changed or deleted through another node: hands the engine their current
  // configuration (or removes them), for the work it already holds.
  void RefreshHeldWebhooks();
  ConfigPtr ConfigFor(const std::string& webhook_id, TimePoint now);

  store::Store& store_;
  DeliveryEngine& engine_;
  const Clock& clock_;
  const ClaimerOptions options_;
  std::unordered_map<std::string, CachedConfig> configs_;  // claimer thread only
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ulak::delivery
