// FaultyTransport: wraps a real HttpTransport (the curl one) and injects, on command from a
// test, the network failures deliveries meet (issue 15): a connection reset mid-body, a slow
// first byte, a TLS failure, and a 200 that arrives after the timeout.
//
// No real waiting: "slow" is simulated on the result (its response time, or a timeout when
// the delay outlasts the request's timeout), so tests never sleep. The faults that happen
// after the receiver got the request (reset mid-body, 200 after the timeout) really send it
// through the wrapped transport and then report a failure: the receiver saw the delivery, the
// engine believes it failed. That is the at-least-once case a receiver dedupes by webhook-id.
//
// Thread-safe. `done` runs on the wrapped transport's loop, or for a request that is never
// sent (TLS failure) on this wrapper's own thread: never inside Send().
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "delivery/http_transport.h"

namespace ulak::delivery {

enum class NetworkFault {
  kNone,
  kResetMidBody,      // sent and answered, then reset while the response body arrived
  kSlowFirstByte,     // the answer's first byte comes `delay` late (a timeout if beyond the request's)
  kTlsFailure,        // the handshake fails: nothing is sent
  kOkAfterTimeout,    // the receiver answers 200, but only after the timeout
};

class FaultyTransport final : public HttpTransport {
 public:
  explicit FaultyTransport(std::unique_ptr<HttpTransport> inner);
  ~FaultyTransport() override;

  // Faults the next `times` requests (-1: all until Clear()). `delay` is for kSlowFirstByte.
  void Inject(NetworkFault fault, int times = -1, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  void Clear() { Inject(NetworkFault::kNone, 0); }
  int64_t injected() const;

  void Send(OutgoingRequest request, Callback done) override;
  void Stop() override;
  void AfterCallbacks(std::function<void()> fn) override { inner_->AfterCallbacks(std::move(fn)); }
  DeliveryLoop* Loop() override { return inner_->Loop(); }

 private:
  // The fault for the next request, counting it down.
  NetworkFault Next(std::chrono::milliseconds& delay);
  void RunCallbacks();

  const std::unique_ptr<HttpTransport> inner_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  NetworkFault fault_ = NetworkFault::kNone;  // GUARDED_BY(mu_)
  int remaining_ = 0;                         // GUARDED_BY(mu_)
  std::chrono::milliseconds delay_{0};        // GUARDED_BY(mu_)
  int64_t injected_ = 0;                      // GUARDED_BY(mu_)
  std::deque<std::pair<Callback, TransportResult>> queued_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ulak::delivery
