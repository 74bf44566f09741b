// StoreWriter: group commit. One thread owns the writes of the hot path (publishes and
// attempt outcomes). Callers hand it work and get a callback; it runs everything queued in
// one transaction per round, so many publishes share one fsync (ARCHITECTURE.md).
//
// Fuller rounds (issue 17): a round with attempt outcomes but no publish does not commit at
// once; it lingers (StoreWriterOptions::outcome_linger) until a publish arrives, max_batch
// outcomes are queued, Flush()/Stop() is called or the linger ends, so the outcomes ride in
// the next publish's transaction instead of costing one (and an fsync) of their own.
// Publishes never wait for the linger. Optionally (publish_window: ulak serve turns it on for
// PostgreSQL) a round of publishes waits a little for more when the previous round was large.
//
// Thread-safe. Callbacks run on the writer thread and must be quick (post elsewhere).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace ulak::store {

struct StoreWriterOptions {
  size_t max_batch = 512;  // publishes, and outcomes, per round at most
  // How many times an outcome the store rejects on its own (not because the store is
  // unreachable) is tried before it is parked as a dead letter.
  int max_outcome_tries = 5;
  // How long a round of outcomes alone waits for a publish to share its transaction
  // (ulak serve: writer_linger_us). Zero commits at once. It delays only when an outcome is
  // durable, never a publish nor a delivery; an outcome lost to a crash meanwhile leaves its
  // delivery pending, to be tried again (at-least-once, as always).
  std::chrono::microseconds outcome_linger{std::chrono::milliseconds(5)};
  // Group commit window (ulak serve: writer_publish_window_us): when the previous round
  // carried at least publish_window_min publishes, a round of publishes waits up to this
  // long until it holds as many as that round (their clients are likely on their way back)
  // and twice what it held when it began, or max_batch. Zero (this struct's default) never
  // waits. ulak serve's default (`auto`) is 2 ms on PostgreSQL, where a round trip and a
  // commit per round are what a fuller round saves, and zero on SQLite.
  std::chrono::microseconds publish_window{0};
  size_t publish_window_min = 16;
};

class StoreWriter {
 public:
  using PublishCallback = std::function<void(Result<PublishResult>&&)>;

  explicit StoreWriter(Store& store, StoreWriterOptions options = {});
  // The default options but for these two.
  StoreWriter(Store& store, size_t max_batch, int max_outcome_tries = 5);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // `done` gets the stored result once it is durable, or the store's error.
  void Publish(PublishRequest request, PublishCallback done);
  // True on the writer thread while it runs a commit's Publish callbacks; false elsewhere (a
  // Publish refused at once because the writer is stopping runs `done` on the caller's thread).
  bool InCommitCallbacks() const { return std::this_thread::get_id() == thread_id_ && in_callbacks_; }
  // REQUIRES: InCommitCallbacks(). Runs `fn` once the callbacks of this commit have all run,
  // so a caller can hand a commit's work on as one batch (the publisher gives the delivery
  // engine one batch per commit, not one call per event).
  void AfterCommitCallbacks(std::function<void()> fn) { after_callbacks_.push_back(std::move(fn)); }
  // Queues an attempt outcome. A write that fails because the store is unavailable is
  // retried until it succeeds or Stop(); an outcome lost to a crash leaves its delivery
  // pending, so it is tried again (at-least-once). An outcome the store itself rejects (any
  // other error) is retried alone, and after max_outcome_tries such failures parked with its
  // error (Store::RecordDeadOutcome, ulak_outcomes_dead_lettered_total): one poison outcome
  // never stops the others.
  void Record(AttemptOutcome outcome);
  // Record for several outcomes at once: one hand-off (the delivery loop's per turn).
  void RecordBatch(std::vector<AttemptOutcome> outcomes);
  // The outcome of the last commit (OK before the first): readiness (/readyz) and the
  // publish path read it. Unavailable while the store cannot write.
  Status LastWrite() const;
  // Blocks until everything queued before the call is committed (or has failed). Ends a
  // linger at once: it never waits for outcome_linger or publish_window.
  void Flush();
  // Commits what is queued (without lingering), then ends the thread. Idempotent.
  void Stop();

 private:
  struct PendingPublish {
    PublishRequest request;
    PublishCallback done;
  };
  void Run();
  // REQUIRES: lock holds mu_. Waits, up to the linger or window, for a fuller round.
  void WaitForFullerRound(std::unique_lock<std::mutex>& lock, bool retrying);
  // Commits each outcome alone after their batch was rejected: the good ones are stored,
  // a poison one counts a try and, at options_.max_outcome_tries, is parked. Leaves in `outcomes`
  // those still to retry; returns how many left it, and sets `transient` when one failed
  // because the store is unavailable.
  size_t CommitOneByOne(std::vector<AttemptOutcome>& outcomes, bool& transient);
  void SetLastWrite(const Status& status);

  Store& store_;
  const StoreWriterOptions options_;  // max_batch and max_outcome_tries at least 1
  size_t last_round_publishes_ = 0;       // writer thread only
  std::unordered_map<std::string, int> outcome_tries_;  // writer thread only: attempt id -> rejections
  std::vector<std::function<void()>> after_callbacks_;   // writer thread only (AfterCommitCallbacks)
  bool in_callbacks_ = false;                             // writer thread only
  std::thread::id thread_id_;                             // set once, before any Publish
  mutable std::mutex status_mu_;
  Status last_write_;  // GUARDED_BY(status_mu_)
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::deque<PendingPublish> publishes_;   // GUARDED_BY(mu_)
  std::deque<AttemptOutcome> outcomes_;    // GUARDED_BY(mu_)
  uint64_t queued_seq_ = 0;                // GUARDED_BY(mu_): items ever queued
  uint64_t done_seq_ = 0;                  // GUARDED_BY(mu_): items committed or failed
  uint64_t flush_seq_ = 0;                 // GUARDED_BY(mu_): a Flush waits for items up to it
  bool lingering_ = false;                 // GUARDED_BY(mu_): the writer waits for a fuller round
  size_t wake_at_publishes_ = 1;           // GUARDED_BY(mu_): Publish wakes the writer from this many
  bool stopping_ = false;                  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ulak::store
