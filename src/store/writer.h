// StoreWriter: group commit. One thread owns the writes of the hot path (publishes and
// attempt outcomes). Callers hand it work and get a callback; it runs everything queued in
// one transaction per kind, so many publishes share one fsync (ARCHITECTURE.md).
//
// Thread-safe. Callbacks run on the writer thread and must be quick (post elsewhere).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.h"

namespace ulak::store {

class StoreWriter {
 public:
  using PublishCallback = std::function<void(Result<PublishResult>&&)>;

  explicit StoreWriter(Store& store, size_t max_batch = 512);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // `done` gets the stored result once it is durable, or the store's error.
  void Publish(PublishRequest request, PublishCallback done);
  // Queues an attempt outcome. A failed write is retried until it succeeds or Stop(); an
  // outcome lost to a crash leaves its delivery pending, so it is tried again (at-least-once).
  void Record(AttemptOutcome outcome);
  // Blocks until everything queued before the call is committed (or has failed).
  void Flush();
  // Commits what is queued, then ends the thread. Idempotent.
  void Stop();

 private:
  struct PendingPublish {
    PublishRequest request;
    PublishCallback done;
  };
  void Run();

  Store& store_;
  const size_t max_batch_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::deque<PendingPublish> publishes_;   // GUARDED_BY(mu_)
  std::deque<AttemptOutcome> outcomes_;    // GUARDED_BY(mu_)
  uint64_t queued_seq_ = 0;                // GUARDED_BY(mu_): items ever queued
  uint64_t done_seq_ = 0;                  // GUARDED_BY(mu_): items committed or failed
  bool stopping_ = false;                  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ulak::store
