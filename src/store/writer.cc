#include "store/writer.h"

#include <algorithm>

#include "common/log.h"
#include "common/metrics.h"
#include "common/thread_name.h"

namespace ulak::store {

namespace {
StoreWriterOptions WithLimits(size_t max_batch, int max_outcome_tries) {
  StoreWriterOptions options;
  options.max_batch = max_batch;
  options.max_outcome_tries = max_outcome_tries;
  return options;
}

// At least one of each: a round takes one item, an outcome gets one try.
StoreWriterOptions Normalized(StoreWriterOptions options) {
  options.max_batch = std::max<size_t>(options.max_batch, 1);
  options.max_outcome_tries = std::max(options.max_outcome_tries, 1);
  return options;
}
}  // namespace

StoreWriter::StoreWriter(Store& store, size_t max_batch, int max_outcome_tries)
    : StoreWriter(store, WithLimits(max_batch, max_outcome_tries)) {}

StoreWriter::StoreWriter(Store& store, StoreWriterOptions options)
    : store_(store),
      options_(Normalized(options)),
      thread_([this] { SetCurrentThreadName("ulak-writer"); Run(); }) {
  thread_id_ = thread_.get_id();  // read only by callbacks, which come after a Publish
}

Status StoreWriter::LastWrite() const {
  std::lock_guard lock(status_mu_);
  return last_write_;
}

void StoreWriter::SetLastWrite(const Status& status) {
  std::lock_guard lock(status_mu_);
  last_write_ = status;
}

size_t StoreWriter::CommitOneByOne(std::vector<AttemptOutcome>& outcomes, bool& transient) {
  size_t finished = 0;
  std::vector<AttemptOutcome> kept;
  for (AttemptOutcome& o : outcomes) {
    Status s = store_.CommitBatch({}, {o}).status();
    if (s.ok()) {
      outcome_tries_.erase(o.attempt.id);
      ++finished;
      continue;
    }
    if (s.code() == ErrorCode::kUnavailable) {  // the store, not this outcome: retry, never park
      transient = true;
      kept.push_back(std::move(o));
      continue;
    }
    const int tries = ++outcome_tries_[o.attempt.id];
    if (tries < options_.max_outcome_tries) {
      kept.push_back(std::move(o));
      continue;
    }
    DeadOutcome dead{o, s.message(), tries, std::chrono::system_clock::now()};
    if (Status parked = store_.RecordDeadOutcome(dead); !parked.ok()) {
      Log(LogLevel::kError, "cannot park a rejected attempt outcome; will retry", {{"error", parked.message()}});
      transient = transient || parked.code() == ErrorCode::kUnavailable;
      kept.push_back(std::move(o));
      continue;
    }
    Log(LogLevel::kError, "attempt outcome rejected by the store; parked as a dead letter",
        {{"attempt_id", o.attempt.id}, {"delivery_id", o.attempt.delivery_id}, {"error", s.message()}});
    Metrics::Instance().CountDeadOutcome();
    outcome_tries_.erase(o.attempt.id);
    ++finished;
  }
  outcomes = std::move(kept);
  return finished;
}

StoreWriter::~StoreWriter() { Stop(); }

void StoreWriter::Publish(PublishRequest request, PublishCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      publishes_.push_back({std::move(request), std::move(done)});
      ++queued_seq_;
      // In a group commit window the writer waits for a count: no wake-up before it.
      if (publishes_.size() >= wake_at_publishes_) wake_.notify_one();
      return;
    }
  }
  done(Unavailable("The server is shutting down."));
}

void StoreWriter::Record(AttemptOutcome outcome) {
  std::lock_guard lock(mu_);
  outcomes_.push_back(std::move(outcome));
  ++queued_seq_;
  // A lingering writer waits for a publish or a full batch of outcomes: no wake-up before.
  if (!lingering_ || outcomes_.size() >= options_.max_batch) wake_.notify_one();
}

void StoreWriter::RecordBatch(std::vector<AttemptOutcome> outcomes) {
  if (outcomes.empty()) return;
  std::lock_guard lock(mu_);
  for (AttemptOutcome& o : outcomes) outcomes_.push_back(std::move(o));
  queued_seq_ += outcomes.size();
  if (!lingering_ || outcomes_.size() >= options_.max_batch) wake_.notify_one();
}

void StoreWriter::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = queued_seq_;
  if (done_seq_ < target && flush_seq_ < target) {
    flush_seq_ = target;
    wake_.notify_one();  // ends a linger
  }
  flushed_.wait(lock, [&] { return done_seq_ >= target || (stopping_ && !thread_.joinable()); });
}

void StoreWriter::WaitForFullerRound(std::unique_lock<std::mutex>& lock, bool retrying) {
  using Clock = std::chrono::steady_clock;
  auto hurry = [&] { return stopping_ || flush_seq_ > done_seq_; };
  if (retrying || hurry()) return;
  if (publishes_.empty()) {
    // Outcomes alone: wait for a publish to carry them (the linger).
    if (options_.outcome_linger.count() <= 0 || outcomes_.size() >= options_.max_batch) return;
    lingering_ = true;
    wake_.wait_until(lock, Clock::now() + options_.outcome_linger,
                     [&] { return hurry() || !publishes_.empty() || outcomes_.size() >= options_.max_batch; });
    lingering_ = false;
    return;
  }
  // Publishes: the group commit window, after a large round only.
  if (options_.publish_window.count() <= 0 || last_round_publishes_ < options_.publish_window_min) return;
  // As many as the last round (its clients are on their way back: one group of closed-loop
  // clients), or twice what is queued (two groups that took turns become one).
  const size_t want = std::min(options_.max_batch, std::max(last_round_publishes_, 2 * publishes_.size()));
  if (publishes_.size() >= want) return;
  wake_at_publishes_ = want;
  wake_.wait_until(lock, Clock::now() + options_.publish_window,
                   [&] { return hurry() || publishes_.size() >= want; });
  wake_at_publishes_ = 1;
}

void StoreWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  flushed_.notify_all();
}

void StoreWriter::Run() {
  std::vector<PendingPublish> publishes;
  std::vector<AttemptOutcome> outcomes;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // `outcomes` may still hold a batch whose write failed: go round again at once.
      wake_.wait(lock, [&] { return stopping_ || !publishes_.empty() || !outcomes_.empty() || !outcomes.empty(); });
      if (publishes_.empty() && outcomes_.empty() && outcomes.empty()) return;  // stopping, nothing left
      // `outcomes` non-empty: a failed batch to retry, not worth waiting for company.
      WaitForFullerRound(lock, !outcomes.empty());
      while (!publishes_.empty() && publishes.size() < options_.max_batch) {
        publishes.push_back(std::move(publishes_.front()));
        publishes_.pop_front();
      }
      while (!outcomes_.empty() && outcomes.size() < options_.max_batch) {
        outcomes.push_back(std::move(outcomes_.front()));
        outcomes_.pop_front();
      }
    }
    // One transaction for the round: outcomes and publishes share a single fsync.
    std::vector<PublishRequest> requests;
    requests.reserve(publishes.size());
    for (auto& p : publishes) requests.push_back(std::move(p.request));
    Result<std::vector<PublishResult>> results = store_.CommitBatch(requests, outcomes);
    Status outcome_status = outcomes.empty() ? Status::Ok() : results.status();
    if (!results.ok() && results.status().code() != ErrorCode::kUnavailable && !requests.empty() &&
        !outcomes.empty()) {
      // One bad half must not fail the other: commit them apart. Not when the store is
      // unavailable: both would fail again, and a commit that reported failure but happened
      // would have its publishes inserted twice.
      results = store_.CommitBatch(requests, {});
      outcome_status = store_.CommitBatch({}, outcomes).status();
    }
    // Readiness follows whether the store could write, not whether it liked every row; set
    // before anyone is answered, so a client that got its answer sees readiness agree.
    if (!results.ok() && results.status().code() == ErrorCode::kUnavailable) {
      SetLastWrite(results.status());
    } else if (outcome_status.code() == ErrorCode::kUnavailable) {
      SetLastWrite(outcome_status);
    } else {
      SetLastWrite(Status::Ok());
    }
    in_callbacks_ = true;
    for (size_t i = 0; i < publishes.size(); ++i) {
      if (results.ok()) {
        publishes[i].done(std::move((*results)[i]));
      } else {
        publishes[i].done(results.status());
      }
    }
    in_callbacks_ = false;
    for (size_t i = 0; i < after_callbacks_.size(); ++i) after_callbacks_[i]();
    after_callbacks_.clear();
    if (!results.ok() && !publishes.empty()) {
      Log(LogLevel::kError, "publish batch failed", {{"error", results.status().message()}});
    }
    size_t finished = publishes.size();
    last_round_publishes_ = publishes.size();
    publishes.clear();
    bool transient = outcome_status.code() == ErrorCode::kUnavailable;
    if (!outcome_status.ok() && !transient) {
      // The store rejected the batch itself: find the outcomes it rejects, store the others.
      finished += CommitOneByOne(outcomes, transient);
      if (outcomes.empty()) outcome_status = Status::Ok();
    }
    if (transient && outcome_status.code() != ErrorCode::kUnavailable) {
      SetLastWrite(Unavailable("the store is unavailable while recording attempts"));
    }
    if (outcome_status.ok()) {
      finished += outcomes.size();
      outcomes.clear();
    } else if (!transient) {
      Log(LogLevel::kError, "attempt outcomes rejected; will retry", {{"error", outcome_status.message()}});
    } else {
      // Kept and retried. An outcome lost to a crash leaves its delivery pending, so it is
      // tried again after restart (at-least-once).
      Log(LogLevel::kError, "recording attempts failed; will retry", {{"error", outcome_status.message()}});
      bool stopping;
      {
        std::lock_guard lock(mu_);
        stopping = stopping_;
      }
      if (stopping) {
        finished += outcomes.size();
        outcomes.clear();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    std::lock_guard lock(mu_);
    done_seq_ += finished;
    flushed_.notify_all();
  }
}

}  // namespace ulak::store
