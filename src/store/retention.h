// Retention: deletes what is older than the retention period, in small batches, without
// ever holding up delivery (issue 16; the failures avoided: Hook0 #47's cleanup saturating
// PostgreSQL for an hour, Svix PR #869's cleaners deadlocking across nodes, Svix #1933's
// payloads never cleaned).
//
// A pass walks every organization with its retention_days (the organization's own, else
// the server's; 0 keeps forever) and deletes, oldest first and by index, in batches of
// `batch` rows, each its own short transaction (Store::PruneBatch): finished deliveries
// with their attempt logs, then the events no delivery needs any more (their payloads with
// them), then incoming requests. Open deliveries (pending, retrying, in flight) and their
// events are never deleted, whatever their age. Between batches the task pauses, so the
// group commit gets the write lock back within one batch. Then SQLite gives the freed pages
// back to the file system in steps (incremental_vacuum); PostgreSQL's autovacuum reclaims
// plain DELETEs by itself. On PostgreSQL one node prunes at a time (an advisory lock); the
// others find it busy and try again next interval.
//
// `ulak prune` runs one pass in the foreground (RunOnce); `ulak serve` runs them in the
// background every `interval` (Start).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "store/store.h"

namespace ulak::store {

struct RetentionOptions {
  int default_days = 30;  // the server's retention_days; 0 keeps forever
  std::chrono::milliseconds interval{std::chrono::minutes(10)};  // between background passes
  int batch = 100;  // deliveries (with their attempts), events or incoming requests per transaction
  std::chrono::milliseconds pause{std::chrono::milliseconds(10)};  // between batches (background)
  int vacuum_pages = 512;                                         // pages per incremental_vacuum step
};

struct PruneReport {
  int64_t organizations = 0;  // organizations looked at (0 days: skipped, not counted)
  int64_t deliveries = 0;
  int64_t attempts = 0;
  int64_t events = 0;
  int64_t incoming = 0;
  int64_t batches = 0;
  int64_t free_pages_left = 0;  // SQLite: pages not yet given back (0 when done)
  bool busy = false;            // another node was pruning: this pass stopped early
};

class Retention {
 public:
  Retention(Store& store, const Clock& clock, RetentionOptions options = {});
  ~Retention();
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // One pass over every organization. `older_than` overrides every organization's period
  // (ulak prune --older-than); zero or nullopt: each organization's own. `dry_run` deletes
  // nothing and counts what would go. `between_batches` runs after each batch and may
  // pause; returning false ends the pass early (the background task stopping).
  Result<PruneReport> RunOnce(std::optional<std::chrono::milliseconds> older_than = std::nullopt,
                              bool dry_run = false, const std::function<bool()>& between_batches = {});

  // Background passes every options.interval (the first after one interval). Stop() ends
  // the current pass within one batch. Idempotent.
  void Start();
  void Stop();

 private:
  // Waits up to `d`; false when stopping.
  bool Wait(std::chrono::milliseconds d);

  Store& store_;
  const Clock& clock_;
  const RetentionOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

// Parses a period such as "30d", "12h", "90m" or "45s" (a bare number is days).
Result<std::chrono::milliseconds> ParsePeriod(std::string_view text);

}  // namespace ulak::store
