#include "store/writer.h"

#include "common/log.h"

namespace ulak::store {

StoreWriter::StoreWriter(Store& store, size_t max_batch)
    : store_(store), max_batch_(max_batch), thread_([this] { Run(); }) {}

StoreWriter::~StoreWriter() { Stop(); }

void StoreWriter::Publish(PublishRequest request, PublishCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      publishes_.push_back({std::move(request), std::move(done)});
      ++queued_seq_;
      wake_.notify_one();
      return;
    }
  }
  done(Unavailable("The server is shutting down."));
}

void StoreWriter::Record(AttemptOutcome outcome) {
  std::lock_guard lock(mu_);
  outcomes_.push_back(std::move(outcome));
  ++queued_seq_;
  wake_.notify_one();
}

void StoreWriter::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = queued_seq_;
  flushed_.wait(lock, [&] { return done_seq_ >= target || (stopping_ && !thread_.joinable()); });
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
      while (!publishes_.empty() && publishes.size() < max_batch_) {
        publishes.push_back(std::move(publishes_.front()));
        publishes_.pop_front();
      }
      while (!outcomes_.empty() && outcomes.size() < max_batch_) {
        outcomes.push_back(std::move(outcomes_.front()));
        outcomes_.pop_front();
      }
    }
    // One transaction for the round: outcomes and publishes share a single fsync.
    std::vector<PublishRequest> requests;
    requests.reserve(publishes.size());
    for (auto& p : publishes) requests.push_back(std::move(p.request));
    Result<std::vector<PublishResult>> results = store_.CommitBatch(requests, outcomes);
    Status outcome_status = results.status();
    if (!results.ok() && !requests.empty() && !outcomes.empty()) {
      // One bad half must not fail the other: commit them apart.
      results = store_.CommitBatch(requests, {});
      outcome_status = store_.CommitBatch({}, outcomes).status();
    }
    for (size_t i = 0; i < publishes.size(); ++i) {
      if (results.ok()) {
        publishes[i].done(std::move((*results)[i]));
      } else {
        publishes[i].done(results.status());
      }
    }
    if (!results.ok() && !publishes.empty()) {
      Log(LogLevel::kError, "publish batch failed", {{"error", results.status().message()}});
    }
    size_t finished = publishes.size();
    publishes.clear();
    if (outcome_status.ok()) {
      finished += outcomes.size();
      outcomes.clear();
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
