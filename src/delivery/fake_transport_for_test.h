// The fake transport the engine's unit tests share (engine_test.cc, shaping_engine_test.cc).
// Header-only and for tests only: it is never part of a library.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "delivery/http_transport.h"

namespace ulak::testing {

using delivery::HttpTransport;
using delivery::OutgoingRequest;
using delivery::TransportError;
using delivery::TransportResult;

// Records every request; the test decides when and how each one completes. It has no loop,
// so the engine runs its own ManualDeliveryLoop on the test's thread: a completion from the
// test is handled at once (as the curl loop's would be on its thread), and waiting for a
// request runs the engine's loop by hand (`drive`).
class FakeTransport final : public HttpTransport {
 public:
  struct Sent {
    OutgoingRequest request;
    Callback done;
  };
  void Send(OutgoingRequest request, Callback done) override {
    std::optional<int> answer;
    {
      std::lock_guard lock(mu_);
      answer = answer_at_once_;
      sent_.push_back({std::move(request), answer ? Callback() : std::move(done)});
      cv_.notify_all();
    }
    if (answer) {
      TransportResult r;
      r.status = *answer;
      done(std::move(r));
    }
  }
  // From now on every request is answered `status` at once, inside Send.
  void AnswerAtOnce(int status) {
    std::lock_guard lock(mu_);
    answer_at_once_ = status;
  }
  void Stop() override {}

  void SetDrive(std::function<void()> drive) { drive_ = std::move(drive); }
  // Runs the engine's loop until `n` requests were sent in all (bounded: work posted from
  // the writer's thread may still be on its way).
  bool WaitForSent(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      if (drive_) drive_();
      std::unique_lock lock(mu_);
      if (sent_.size() >= n) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(10), [&] { return sent_.size() >= n; });
    }
  }
  size_t SentCount() {
    std::lock_guard lock(mu_);
    return sent_.size();
  }
  OutgoingRequest Request(size_t i) {
    std::lock_guard lock(mu_);
    return sent_.at(i).request;
  }
  std::vector<OutgoingRequest> Requests() {
    std::lock_guard lock(mu_);
    std::vector<OutgoingRequest> all;
    for (const Sent& s : sent_) all.push_back(s.request);
    return all;
  }
  void Complete(size_t i, int status, TransportError error = TransportError::kNone, std::string body = "") {
    TransportResult r;
    r.status = status;
    r.error = error;
    r.body = std::move(body);
    if (error != TransportError::kNone) r.error_message = "connection refused";
    CompleteWith(i, std::move(r));
  }
  void CompleteWith(size_t i, TransportResult r) {
    Callback done;
    {
      std::lock_guard lock(mu_);
      done = std::move(sent_.at(i).done);
    }
    done(std::move(r));  // on the test's thread, the engine's loop: handled at once
    if (drive_) drive_();  // and what it posted, as a running loop would
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Sent> sent_;
  std::function<void()> drive_;
  std::optional<int> answer_at_once_;  // GUARDED_BY(mu_)
};

inline std::string Header(const OutgoingRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace ulak::testing
