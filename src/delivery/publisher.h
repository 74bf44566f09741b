// Publisher: the durable publish path shared by POST /api/events, test sends and (later)
// incoming webhooks. Matches the organization's webhooks (their events and filters), renders
// the body once, commits
// the event and its deliveries through the StoreWriter (group commit), and only then
// answers and hands the deliveries to the engine.
//
// Threads: Publish runs on the caller's thread (an HTTP thread), the commit's work on the
// writer's thread, which posts one batch per commit to the delivery loop (Enqueue).
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "delivery/engine.h"
#include "shape/json_number.h"
#include "store/store.h"
#include "store/writer.h"

namespace ulak::delivery {

struct PublishInput {
  std::string organization_id;
  std::string event_type;
  std::string event_id;  // idempotency key; empty for none
  boost::json::value data;
  boost::json::value metadata;
  // The publisher's text of numbers a double cannot hold (shape::ScanNumbers on the body
  // `data` and `metadata` came from), written back as sent.
  shape::NumberDigits digits;
  // Operational events (webhook.disabled) are published even under backpressure: they are
  // few, and losing one would hide why a webhook went quiet.
  bool operational = false;
  // Set for a verified incoming webhook: stored with the event in one transaction.
  std::optional<store::IncomingRequest> incoming;
};

class Publisher {
 public:
  Publisher(store::Store& store, store::StoreWriter& writer, DeliveryEngine& engine, const Clock& clock,
            Random& random)
      : store_(store), writer_(writer), engine_(engine), clock_(clock), random_(random) {}

  using PublishDone = std::function<void(Result<store::PublishResult>&&)>;
  // `done` runs once the event is durable (or failed), on the writer's thread, after the
  // engine has its deliveries: the deliveries of every publish in one commit go to the engine
  // as one batch (one Enqueue per commit), then the commit's `done`s run. For a first
  // publish (not a repeat) its event.payload is empty: the body went to the engine without
  // a copy.
  void Publish(PublishInput input, PublishDone done);

  // Forgets the cached subscriptions of an organization: call after any change to its
  // webhooks on this node. (Other nodes see a change within kSubscriptionTtl.)
  void InvalidateSubscriptions(const std::string& organization_id);
  static constexpr std::chrono::milliseconds kSubscriptionTtl{2000};

  using TestDone = std::function<void(Result<store::Attempt>&&)>;
  // Stores a "webhook.test" event for this one webhook and sends it at once, without retries.
  void SendTest(ConfigPtr config, TestDone done);

 private:
  struct Subscriptions {
    std::vector<ConfigPtr> active;  // parsed once, shared by every publish
    TimePoint loaded_at;
  };
  // The organization's active webhooks, from the cache or the store.
  Result<std::shared_ptr<const Subscriptions>> ActiveWebhooks(const std::string& organization_id);

  // What the publishes of the current commit hand on, in one go once its callbacks have run.
  // Writer thread only (a publish answered outside a commit hands its work on at once).
  struct CommitBatch {
    std::vector<std::pair<ConfigPtr, store::PendingDelivery>> work;
    std::vector<std::pair<PublishDone, Result<store::PublishResult>>> done;
  };
  void HandOver();

  store::Store& store_;
  store::StoreWriter& writer_;
  CommitBatch batch_;  // writer thread only
  DeliveryEngine& engine_;
  const Clock& clock_;
  Random& random_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const Subscriptions>> cache_;  // GUARDED_BY(cache_mu_)
};

}  // namespace ulak::delivery
