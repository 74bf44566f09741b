// Publish latency while retention cleans a large store (issue 16): the publish p99 during a
// cleanup of a million old attempt rows must stay within 2x of the p99 without one.
//
// What is timed is the durable part of a publish, the same path `POST /api/events` waits
// for: StoreWriter::Publish (group commit of the event and its delivery, fsync) until its
// callback. `--clients` threads publish in a closed loop. Phase 1 measures for `--seconds`
// without a cleanup; phase 2 runs one retention pass (store::Retention with the server's
// default batch and pause, exactly what `ulak serve` runs in the background) over
// `--attempts` old attempt rows (four per delivery, bulk-inserted first) and measures the
// publishes made while it runs. Prints both distributions and the ratio of the p99s.
//
//   retention_bench [--database sqlite:PATH | postgres://...] [--attempts 1000000]
//                   [--clients 4] [--seconds 10] [--batch 500] [--pause-ms 10]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "common/clock.h"
#include "common/ids.h"
#include "store/postgres/postgres_store.h"
#include "store/retention.h"
#include "store/sqlite/sqlite_store.h"
#include "store/writer.h"

namespace {

using Steady = std::chrono::steady_clock;
using namespace ulak;

struct Args {
  std::string database = "sqlite:" + (std::filesystem::temp_directory_path() / "ulak_retention_bench.db").string();
  int attempts = 1'000'000;
  int clients = 4;
  int seconds = 10;
  int batch = 500;
  int pause_ms = 10;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--database") a.database = v;
    else if (k == "--attempts") a.attempts = std::atoi(v.c_str());
    else if (k == "--clients") a.clients = std::atoi(v.c_str());
    else if (k == "--seconds") a.seconds = std::atoi(v.c_str());
    else if (k == "--batch") a.batch = std::atoi(v.c_str());
    else if (k == "--pause-ms") a.pause_ms = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

Status Exec(store::Store& s, const std::string& sql) {
  if (auto* lite = dynamic_cast<store::sqlite::SqliteStore*>(&s)) return lite->ExecForTest(sql);
  return dynamic_cast<store::postgres::PostgresStore&>(s).ExecForTest(sql);
}

// Old deliveries (one event each) with four attempt rows each, 40 days old.
Status FillOld(store::Store& s, bool sqlite, const std::string& org, const std::string& hook, int64_t old_ms,
               int attempts) {
  const std::string n = std::to_string(attempts / 4), a = std::to_string(attempts), t = std::to_string(old_ms);
  const std::string body = "'response body of a receiver, kept with every attempt until retention removes it'";
  std::vector<std::string> sql;
  if (sqlite) {
    const std::string seq = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ";
    sql = {seq + n + " - 1) INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, "
                     "created_at) SELECT printf('old-e-%08d', i), '" + org + "', 'order.created', NULL, "
                     "'{\"event\":\"order.created\",\"n\":' || i || '}', 1, " + t + " + i / 100 FROM n",
           seq + n + " - 1) INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, "
                     "next_attempt_at, created_at, updated_at) SELECT printf('old-d-%08d', i), "
                     "printf('old-e-%08d', i), '" + hook + "', '" + org + "', 'success', 4, " + t + ", " + t +
               " + i / 100, " + t + " + i / 100 FROM n",
           seq + a + " - 1) INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, "
                     "event_ref, request_url, request_signature, response_status, response_body, response_time_ms, "
                     "status, attempt_number, error_message, created_at) SELECT printf('old-a-%08d', i), "
                     "printf('old-d-%08d', i / 4), '" + org + "', '" + hook + "', 'order.created', 'ref', "
                     "'https://example.com/hook', 'sig', 500, " + body + ", 10, 'failed', i % 4 + 1, '', " + t +
               " + i / 400 FROM n",
           "PRAGMA wal_checkpoint(TRUNCATE)"};
  } else {
    const std::string series = " FROM generate_series(0, ";
    sql = {"INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, created_at) "
           "SELECT 'old-e-' || lpad(i::text, 8, '0'), '" + org + "', 'order.created', NULL, convert_to('{}', 'UTF8'), "
           "1, " + t + " + i / 100" + series + n + " - 1) AS i",
           "INSERT INTO deliveries(id, event_id, webhook_id, organization_id, status, attempts, next_attempt_at, "
           "created_at, updated_at) SELECT 'old-d-' || lpad(i::text, 8, '0'), 'old-e-' || lpad(i::text, 8, '0'), '" +
               hook + "', '" + org + "', 'success', 4, " + t + ", " + t + " + i / 100, " + t + " + i / 100" + series +
               n + " - 1) AS i",
           "INSERT INTO attempts(id, delivery_id, organization_id, webhook_id, event_type, event_ref, request_url, "
           "request_signature, response_status, response_body, response_time_ms, status, attempt_number, "
           "error_message, created_at) SELECT 'old-a-' || lpad(i::text, 8, '0'), 'old-d-' || lpad((i / 4)::text, "
           "8, '0'), '" + org + "', '" + hook + "', 'order.created', 'ref', 'https://example.com/hook', 'sig', 500, "
           "convert_to(" + body + ", 'UTF8'), 10, 'failed', i % 4 + 1, '', " + t + " + i / 400" + series + a +
               " - 1) AS i",
           "VACUUM ANALYZE"};
  }
  for (const std::string& q : sql) ULAK_RETURN_IF_ERROR(Exec(s, q));
  return Status::Ok();
}

struct Latencies {
  std::vector<double> ms;
  double Percentile(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  }
};

// Publishes from `clients` threads until `keep_going` turns false; returns every latency.
Latencies Load(store::StoreWriter& writer, const Clock& clock, const std::string& org, const std::string& hook,
               int clients, const std::function<bool()>& keep_going) {
  Latencies all;
  std::mutex mu;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> seq{0};
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      SeededRandomForTest random(1000 + static_cast<uint64_t>(c));
      std::vector<double> mine;
      while (keep_going()) {
        store::PublishRequest r;
        r.event.id = NewId(clock, random);
        r.event.organization_id = org;
        r.event.event_type = "order.created";
        r.event.payload = "{\"event\":\"order.created\",\"n\":" + std::to_string(seq++) + "," +
                          std::string(1000, ' ') + "}";
        r.event.created_at = clock.Now();
        store::Delivery d;
        d.id = NewId(clock, random);
        d.event_id = r.event.id;
        d.webhook_id = hook;
        d.organization_id = org;
        d.next_attempt_at = d.created_at = clock.Now();
        r.deliveries.push_back(d);
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
        const auto start = Steady::now();
        writer.Publish(std::move(r), [&](Result<store::PublishResult>&& res) {
          if (!res.ok()) std::fprintf(stderr, "publish failed: %s\n", res.status().message().c_str());
          std::lock_guard lock(m);
          done = true;
          cv.notify_one();
        });
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return done; });
        mine.push_back(std::chrono::duration<double, std::milli>(Steady::now() - start).count());
      }
      std::lock_guard lock(mu);
      all.ms.insert(all.ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  return all;
}

void Print(const char* name, Latencies& l, double seconds) {
  std::printf("%-26s publishes %7zu (%6.0f/s)  p50 %7.2f ms  p99 %7.2f ms  max %8.2f ms\n", name, l.ms.size(),
              static_cast<double>(l.ms.size()) / seconds, l.Percentile(0.50), l.Percentile(0.99),
              l.ms.empty() ? 0.0 : *std::max_element(l.ms.begin(), l.ms.end()));
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  const bool sqlite = args.database.rfind("sqlite:", 0) == 0;
  if (sqlite) {
    const std::string path = args.database.substr(7);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(args.database);
  if (!opened.ok() || !(*opened)->Migrate().ok()) {
    std::fprintf(stderr, "cannot open %s\n", args.database.c_str());
    return 1;
  }
  std::unique_ptr<store::Store> s = std::move(opened).value();
  const SystemClock& clock = SystemClock::Instance();
  SeededRandomForTest random(16);
  store::Organization org{NewId(clock, random), "bench", clock.Now()};
  if (!s->CreateOrganization(org, {NewId(clock, random), org.id, "hash-" + org.id, "ulak_x", clock.Now()}).ok()) {
    return 1;
  }
  store::Webhook w;
  w.id = NewId(clock, random);
  w.organization_id = org.id;
  w.name = "bench";
  w.url = "https://example.com/hook";
  w.secret_key = std::string(64, 'a');
  w.events_json = R"(["*"])";
  w.custom_headers_json = "{}";
  w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
  w.created_at = w.updated_at = clock.Now();
  if (!s->CreateWebhook(w).ok()) return 1;

  const auto fill_start = Steady::now();
  const int64_t old_ms = ToUnixMillis(clock.Now() - std::chrono::hours(24 * 40));
  if (Status st = FillOld(*s, sqlite, org.id, w.id, old_ms, args.attempts); !st.ok()) {
    std::fprintf(stderr, "fill failed: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("store %s: %d old attempt rows (%d deliveries, %d events) inserted in %.1f s\n",
              sqlite ? "sqlite" : "postgres", args.attempts, args.attempts / 4, args.attempts / 4,
              std::chrono::duration<double>(Steady::now() - fill_start).count());
  if (sqlite) {
    std::printf("file: %.1f MiB\n",
                static_cast<double>(std::filesystem::file_size(args.database.substr(7))) / (1024.0 * 1024.0));
  }

  // The fill leaves hundreds of MiB of dirty pages in the kernel: written back now, so they
  // do not slow the first phase's fsyncs.
  ::sync();
  store::StoreWriter writer(*s);
  // Phase 1: no cleanup.
  const auto until = Steady::now() + std::chrono::seconds(args.seconds);
  Latencies quiet = Load(writer, clock, org.id, w.id, args.clients, [&] { return Steady::now() < until; });
  Print("without cleanup", quiet, args.seconds);

  // Phase 2: one retention pass, as the background task runs it.
  store::RetentionOptions options;
  options.default_days = 30;
  options.batch = args.batch;
  options.pause = std::chrono::milliseconds(args.pause_ms);
  store::Retention retention(*s, clock, options);
  std::atomic<bool> cleaning{true};
  std::optional<Result<store::PruneReport>> report;
  const auto clean_start = Steady::now();
  std::thread cleaner([&] {
    report = retention.RunOnce(std::nullopt, false, [&] {
      std::this_thread::sleep_for(options.pause);
      return true;
    });
    cleaning = false;
  });
  Latencies during = Load(writer, clock, org.id, w.id, args.clients, [&] { return cleaning.load(); });
  cleaner.join();
  const double clean_s = std::chrono::duration<double>(Steady::now() - clean_start).count();
  Print("during cleanup", during, clean_s);
  if (!report || !report->ok()) {
    std::fprintf(stderr, "cleanup failed: %s\n", report ? report->status().message().c_str() : "no report");
    return 1;
  }
  const store::PruneReport& done = report->value();
  std::printf("cleanup: %lld deliveries, %lld attempts, %lld events in %lld batches, %.1f s\n",
              static_cast<long long>(done.deliveries), static_cast<long long>(done.attempts),
              static_cast<long long>(done.events), static_cast<long long>(done.batches), clean_s);
  if (sqlite) {
    writer.Flush();
    std::printf("file after: %.1f MiB\n",
                static_cast<double>(std::filesystem::file_size(args.database.substr(7))) / (1024.0 * 1024.0));
  }
  // Phase 3: no cleanup again, on the cleaned store (a second baseline).
  ::sync();
  const auto until_after = Steady::now() + std::chrono::seconds(args.seconds);
  Latencies after = Load(writer, clock, org.id, w.id, args.clients, [&] { return Steady::now() < until_after; });
  Print("after cleanup", after, args.seconds);
  const double ratio = during.Percentile(0.99) / std::max(0.001, std::max(quiet.Percentile(0.99), after.Percentile(0.99)));
  std::printf("p99 during / without (the larger of the two baselines): %.2fx (goal: at most 2x)\n", ratio);
  writer.Stop();
  return 0;
}
