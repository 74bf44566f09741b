#include "delivery/faulty_transport.h"

#include "common/thread_name.h"

namespace ulak::delivery {

FaultyTransport::FaultyTransport(std::unique_ptr<HttpTransport> inner)
    : inner_(std::move(inner)), thread_([this] {
        SetCurrentThreadName("ulak-faulty");
        RunCallbacks();
      }) {}

FaultyTransport::~FaultyTransport() { Stop(); }

void FaultyTransport::Inject(NetworkFault fault, int times, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  fault_ = times == 0 ? NetworkFault::kNone : fault;
  remaining_ = times;
  delay_ = delay;
}

int64_t FaultyTransport::injected() const {
  std::lock_guard lock(mu_);
  return injected_;
}

NetworkFault FaultyTransport::Next(std::chrono::milliseconds& delay) {
  std::lock_guard lock(mu_);
  const NetworkFault fault = fault_;
  delay = delay_;
  if (fault == NetworkFault::kNone) return fault;
  ++injected_;
  if (remaining_ > 0 && --remaining_ == 0) fault_ = NetworkFault::kNone;
  return fault;
}

void FaultyTransport::Send(OutgoingRequest request, Callback done) {
  std::chrono::milliseconds delay{0};
  const NetworkFault fault = Next(delay);
  const std::chrono::milliseconds timeout = request.timeout;
  switch (fault) {
    case NetworkFault::kNone:
      inner_->Send(std::move(request), std::move(done));
      return;
    case NetworkFault::kTlsFailure: {
      TransportResult r;
      r.error = TransportError::kTls;
      r.error_message = "SSL connect error: handshake failed (injected)";
      std::lock_guard lock(mu_);
      if (stopping_) {
        r.error = TransportError::kOther;
        r.error_message = "transport stopped";
      }
      queued_.emplace_back(std::move(done), std::move(r));
      wake_.notify_one();
      return;
    }
    case NetworkFault::kResetMidBody:
      inner_->Send(std::move(request), [done = std::move(done)](TransportResult&& r) {
        if (r.error == TransportError::kNone) {
          r.error = TransportError::kOther;
          r.error_message = "Recv failure: Connection reset by peer (injected, mid-body)";
          r.body.clear();
        }
        done(std::move(r));
      });
      return;
    case NetworkFault::kSlowFirstByte:
      inner_->Send(std::move(request), [done = std::move(done), delay, timeout](TransportResult&& r) {
        r.response_time_ms += delay.count();
        if (r.error == TransportError::kNone && r.response_time_ms > timeout.count()) {
          r.status = 0;
          r.body.clear();
          r.error = TransportError::kTimeout;
          r.error_message = "timed out after " + std::to_string(timeout.count()) + " ms (injected slow first byte)";
        }
        done(std::move(r));
      });
      return;
    case NetworkFault::kOkAfterTimeout:
      inner_->Send(std::move(request), [done = std::move(done), timeout](TransportResult&& r) {
        if (r.error == TransportError::kNone) {
          r.error = TransportError::kTimeout;
          r.error_message = "timed out after " + std::to_string(timeout.count()) + " ms (injected; the 200 came later)";
          r.response_time_ms = timeout.count();
        }
        done(std::move(r));
      });
      return;
  }
}

void FaultyTransport::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  inner_->Stop();
  if (thread_.joinable()) thread_.join();
}

void FaultyTransport::RunCallbacks() {
  for (;;) {
    std::pair<Callback, TransportResult> next;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
      if (queued_.empty()) return;
      next = std::move(queued_.front());
      queued_.pop_front();
    }
    next.first(std::move(next.second));
  }
}

}  // namespace ulak::delivery
