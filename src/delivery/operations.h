// Delivery operations (SPEC §2 "Replay", §4 auto-disable): retry one delivery now, resend an
// event to a webhook, re-send every failed delivery of a webhook since a time (a background
// job with progress), and disabling a webhook with the operational `webhook.disabled` event.
//
// Threads: called from HTTP threads, its own job thread and (disabling) the delivery loop;
// it reaches the engine only through its thread-safe methods, which post to the loop.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/random.h"
#include "delivery/engine.h"
#include "delivery/publisher.h"
#include "store/store.h"

namespace ulak::delivery {

class DeliveryOperations {
 public:
  DeliveryOperations(store::Store& store, DeliveryEngine& engine, Publisher& publisher, const Clock& clock,
                     Random& random);
  ~DeliveryOperations();
  DeliveryOperations(const DeliveryOperations&) = delete;
  DeliveryOperations& operator=(const DeliveryOperations&) = delete;

  // Sends a finished delivery (success, failed or cancelled) again now, with the same
  // webhook-id. kAlreadyExists when it is still scheduled. organization_id empty: any.
  Result<store::PendingDelivery> RetryDelivery(const std::string& organization_id, const std::string& delivery_id);
  // A new delivery of an event to one webhook of the same organization.
  Result<store::Delivery> ResendEvent(const std::string& organization_id, const std::string& event_id,
                                      const std::string& webhook_id);
  // Starts a background job re-sending the webhook's failed deliveries since `since`.
  Result<store::Job> StartRecover(const std::string& organization_id, const std::string& webhook_id, TimePoint since);
  // Disables the webhook and publishes `webhook.disabled` to the organization's other
  // webhooks. Safe to call from any thread.
  void DisableWebhook(const ConfigPtr& config, const std::string& reason);

  // Ends the job thread; a job still running is left "running" in the store.
  void Stop();

 private:
  void RunJobs();
  void RunRecover(store::Job job, std::string webhook_id, TimePoint since);

  store::Store& store_;
  DeliveryEngine& engine_;
  Publisher& publisher_;
  const Clock& clock_;
  Random& random_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                   // GUARDED_BY(mu_)
  std::thread worker_;
};

}  // namespace ulak::delivery
