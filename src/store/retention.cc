#include "store/retention.h"

#include <charconv>

#include "common/log.h"
#include "common/thread_name.h"

namespace ulak::store {

Retention::Retention(Store& store, const Clock& clock, RetentionOptions options)
    : store_(store), clock_(clock), options_(options) {}

Retention::~Retention() { Stop(); }

Result<PruneReport> Retention::RunOnce(std::optional<std::chrono::milliseconds> older_than, bool dry_run,
                                       const std::function<bool()>& between_batches) {
  PruneReport report;
  const int batch = std::max(1, options_.batch);
  auto carry_on = [&] { return !between_batches || between_batches(); };
  PageRequest page;
  page.limit = 200;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(Page<Organization> orgs, store_.ListOrganizations(page));
    for (const Organization& org : orgs.items) {
      std::chrono::milliseconds period;
      if (older_than && older_than->count() > 0) {
        period = *older_than;
      } else {
        const int days = org.retention_days.value_or(options_.default_days);
        if (days <= 0) continue;  // kept forever
        period = std::chrono::hours(24) * days;
      }
      ++report.organizations;
      const TimePoint before = clock_.Now() - period;
      if (dry_run) {
        ULAK_ASSIGN_OR_RETURN(PruneCounts counts, store_.CountPrunable(org.id, before));
        report.deliveries += counts.deliveries;
        report.attempts += counts.attempts;
        report.events += counts.events;
        report.incoming += counts.incoming;
        continue;
      }
      // Deliveries first (attempts go with them), so their events are free afterwards; incoming
      // requests before events, since an accepted request's body is rebuilt from its event
      // (store/incoming_body.h) and is never newer than it.
      for (PruneKind kind : {PruneKind::kDeliveries, PruneKind::kIncoming, PruneKind::kEvents}) {
        PruneRequest req{org.id, kind, before, batch, "", TimePoint()};
        for (;;) {
          ULAK_ASSIGN_OR_RETURN(PruneResult r, store_.PruneBatch(req));
          if (r.busy) {
            report.busy = true;
            return report;
          }
          ++report.batches;
          switch (kind) {
            case PruneKind::kDeliveries:
              report.deliveries += r.rows;
              report.attempts += r.attempts;
              break;
            case PruneKind::kEvents:
              report.events += r.rows;
              req.after_event = r.last_event;
              req.after_event_created_at = r.last_event_created_at;
              break;
            case PruneKind::kIncoming:
              report.incoming += r.rows;
              break;
          }
          if (!carry_on()) return report;
          if (r.examined < batch) break;  // nothing older is left
        }
      }
    }
    if (orgs.next_cursor.empty()) break;
    page.after = orgs.next_cursor;
  }
  if (dry_run) return report;
  // Give the freed pages back, a step at a time, while the steps make progress (a file
  // that cannot shrink, or one the writer keeps reusing pages of, ends the loop).
  int64_t before_step = -1;
  for (;;) {
    ULAK_ASSIGN_OR_RETURN(int64_t left, store_.ReclaimSpace(options_.vacuum_pages));
    report.free_pages_left = left;
    if (left == 0 || (before_step >= 0 && left >= before_step) || !carry_on()) break;
    before_step = left;
  }
  return report;
}

void Retention::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("ulak-retention");
    while (Wait(options_.interval)) {
      Result<PruneReport> r = RunOnce(std::nullopt, false, [this] { return Wait(options_.pause); });
      if (!r.ok()) {
        Log(LogLevel::kWarn, "retention pass failed; trying again next interval", {{"error", r.status().message()}});
        continue;
      }
      if (r->deliveries + r->events + r->incoming > 0 || r->busy) {
        Log(LogLevel::kInfo, "retention pass",
            {{"deliveries", r->deliveries}, {"attempts", r->attempts}, {"events", r->events},
             {"incoming_requests", r->incoming}, {"batches", r->batches}, {"other_node_pruning", r->busy}});
      }
    }
  });
}

void Retention::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Retention::Wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  if (d.count() > 0) wake_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

Result<std::chrono::milliseconds> ParsePeriod(std::string_view text) {
  if (text.empty()) return InvalidArgument("a period such as 30d, 12h, 90m or 45s is required");
  std::chrono::milliseconds unit = std::chrono::hours(24);
  std::string_view digits = text;
  switch (text.back()) {
    case 'd': unit = std::chrono::hours(24); digits.remove_suffix(1); break;
    case 'h': unit = std::chrono::hours(1); digits.remove_suffix(1); break;
    case 'm': unit = std::chrono::minutes(1); digits.remove_suffix(1); break;
    case 's': unit = std::chrono::seconds(1); digits.remove_suffix(1); break;
    default: break;
  }
  int64_t n = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n < 0 || n > 36500LL * 86400) {
    return InvalidArgument("'" + std::string(text) + "' is not a period such as 30d, 12h, 90m or 45s");
  }
  return unit * n;
}

}  // namespace ulak::store
