// Store micro-benchmarks against a real SQLite file (WAL, synchronous=FULL, as the server
// runs it), each next to SQLite's own floor for the same work, so the figure reads as a
// ratio to what SQLite itself can do:
// - the authenticated-request lookup (API key by hash) vs a prepared SELECT by primary key;
// - a group commit of 100 publishes (1 event of 1 KiB + 1 delivery each: what StoreWriter
//   hands SqliteStore::Publish under load) vs 100 × 2 raw INSERTs in one transaction;
// - recording 100 attempt outcomes (SqliteStore::RecordOutcomes: attempt row + delivery
//   state) vs 100 × (INSERT + UPDATE) raw in one transaction.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "crypto/hash.h"
#include "delivery/payload.h"
#include "store/incoming_body.h"
#include "store/sqlite/sqlite_store.h"

namespace {

std::string TempDbPath(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("ulak_bench_") + name + ".db")).string();
}

void BM_StoreFindApiKeyByHash(benchmark::State& state) {
  const std::string path = TempDbPath("find_key");
  std::filesystem::remove(path);
  auto store = ulak::store::sqlite::SqliteStore::Open(path).value();
  if (!store->Migrate().ok()) state.SkipWithError("migrate failed");
  ulak::ManualClock clock;
  ulak::SeededRandomForTest random(1);
  ulak::store::Organization org{ulak::NewId(clock, random), "bench", clock.Now()};
  const std::string hash = ulak::crypto::Sha256Hex("key");
  ulak::store::ApiKey key{ulak::NewId(clock, random), org.id, hash, "ulak_x", clock.Now()};
  if (!store->CreateOrganization(org, key).ok()) state.SkipWithError("insert failed");
  for (auto _ : state) {
    auto found = store->FindApiKeyByHash(hash);
    benchmark::DoNotOptimize(found);
  }
  store.reset();
  std::filesystem::remove(path);
}
BENCHMARK(BM_StoreFindApiKeyByHash);

// The floor: raw sqlite3 prepared statement, same table shape, no pool, no Status.
void BM_RawSqliteSelectByKey(benchmark::State& state) {
  const std::string path = TempDbPath("raw");
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(h TEXT PRIMARY KEY, v TEXT);"
               "INSERT INTO t VALUES('k','v');", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT v FROM t WHERE h = ?1", -1, &st, nullptr);
  for (auto _ : state) {
    sqlite3_bind_text(st, 1, "k", 1, SQLITE_STATIC);
    benchmark::DoNotOptimize(sqlite3_step(st));
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::filesystem::remove(path);
}
BENCHMARK(BM_RawSqliteSelectByKey);

// A store with one organization and one webhook, for the publish and outcome batches.
struct PublishFixture {
  std::string path;
  std::unique_ptr<ulak::store::sqlite::SqliteStore> store;
  ulak::ManualClock clock;
  ulak::SeededRandomForTest random{1};
  ulak::store::Organization org;
  ulak::store::Webhook webhook;
  std::string payload;

  explicit PublishFixture(const char* name) : path(TempDbPath(name)) {
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
    store = ulak::store::sqlite::SqliteStore::Open(path).value();
    if (!store->Migrate().ok()) throw std::runtime_error("migrate failed");
    org = {ulak::NewId(clock, random), "bench", clock.Now()};
    ulak::store::ApiKey key{ulak::NewId(clock, random), org.id, ulak::crypto::Sha256Hex(org.id), "ulak_x", clock.Now()};
    if (!store->CreateOrganization(org, key).ok()) throw std::runtime_error("org insert failed");
    webhook.id = ulak::NewId(clock, random);
    webhook.organization_id = org.id;
    webhook.name = "bench";
    webhook.url = "http://127.0.0.1:9/hook";
    webhook.secret_key = std::string(64, 'a');
    webhook.events_json = R"(["*"])";
    webhook.custom_headers_json = "{}";
    webhook.retry_policy_json = R"({"kind":"fixed","delays_s":[60,300,1800]})";
    webhook.created_at = webhook.updated_at = clock.Now();
    if (!store->CreateWebhook(webhook).ok()) throw std::runtime_error("webhook insert failed");
    boost::json::value data = boost::json::object{{"pad", std::string(1000, 'x')}};
    payload = ulak::delivery::RenderPayload("order.created", clock.Now(), org.id, data, boost::json::object());
  }
  ~PublishFixture() {
    store.reset();
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
  }

  std::vector<ulak::store::PublishRequest> Batch(int n) {
    std::vector<ulak::store::PublishRequest> batch(n);
    for (auto& r : batch) {
      r.event.id = ulak::NewId(clock, random);
      r.event.organization_id = org.id;
      r.event.event_type = "order.created";
      r.event.payload = payload;
      r.event.created_at = clock.Now();
      ulak::store::Delivery d;
      d.id = ulak::NewId(clock, random);
      d.event_id = r.event.id;
      d.webhook_id = webhook.id;
      d.organization_id = org.id;
      d.next_attempt_at = d.created_at = clock.Now();
      r.deliveries.push_back(d);
    }
    return batch;
  }
};

void BM_StorePublish100(benchmark::State& state) {
  PublishFixture f("publish100");
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = f.Batch(100);
    state.ResumeTiming();
    auto result = f.store->Publish(batch);
    if (!result.ok()) state.SkipWithError(result.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_StorePublish100)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StoreRecordOutcomes100(benchmark::State& state) {
  PublishFixture f("outcomes100");
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = f.Batch(100);
    auto published = f.store->Publish(batch);
    std::vector<ulak::store::AttemptOutcome> outcomes;
    if (published.ok()) {
      for (const auto& r : *published) {
        const ulak::store::Delivery& d = r.deliveries.front();
        ulak::store::AttemptOutcome o;
        o.attempt.id = ulak::NewId(f.clock, f.random);
        o.attempt.delivery_id = d.id;
        o.attempt.organization_id = d.organization_id;
        o.attempt.webhook_id = d.webhook_id;
        o.attempt.event_type = "order.created";
        o.attempt.event_ref = r.event.id;
        o.attempt.request_url = f.webhook.url;
        o.attempt.request_signature = std::string(64, 'f');
        o.attempt.response_status = 200;
        o.attempt.response_body = "ok";
        o.attempt.response_time_ms = 1;
        o.attempt.status = ulak::store::DeliveryStatus::kSuccess;
        o.attempt.delivered_at = f.clock.Now();
        o.attempt.created_at = f.clock.Now();
        o.delivery_status = ulak::store::DeliveryStatus::kSuccess;
        o.attempts = 1;
        o.next_attempt_at = f.clock.Now();
        o.consecutive_failures = 0;
        outcomes.push_back(std::move(o));
      }
    }
    state.ResumeTiming();
    if (!published.ok()) {
      state.SkipWithError(published.status().message().c_str());
      break;
    }
    if (ulak::Status s = f.store->RecordOutcomes(outcomes); !s.ok()) state.SkipWithError(s.message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_StoreRecordOutcomes100)->Unit(benchmark::kMillisecond)->UseRealTime();

// The floor of every durable answer: one 4 KiB overwrite of a preallocated file (as a
// recycled WAL is) made durable with fdatasync. A publish's 202 waits for at least one.
void BM_Fdatasync4KiB(benchmark::State& state) {
  const std::string path = TempDbPath("fsync");
  const int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
  const std::string block(4096, 'x');
  for (int i = 0; i < 256; ++i) {
    if (write(fd, block.data(), block.size()) < 0) state.SkipWithError("write failed");
  }
  fsync(fd);
  off_t offset = 0;
  for (auto _ : state) {
    if (pwrite(fd, block.data(), block.size(), offset) < 0 || fdatasync(fd) != 0) state.SkipWithError("sync failed");
    offset = (offset + 4096) % (256 * 4096);
  }
  close(fd);
  std::filesystem::remove(path);
}
BENCHMARK(BM_Fdatasync4KiB)->Unit(benchmark::kMillisecond)->UseRealTime();

// "e42": built with append, not `"e" + std::to_string(…)`, which trips GCC 12's false
// positive -Wrestrict (GCC bug 105329) in Release builds.
std::string Key(char prefix, int64_t n) {
  std::string key(1, prefix);
  key.append(std::to_string(n));
  return key;
}

// The floors: the same row counts and sizes through raw prepared statements in one
// transaction, same pragmas (WAL, synchronous=FULL), no indexes but the primary keys.
struct RawDb {
  std::string path;
  sqlite3* db = nullptr;
  explicit RawDb(const char* name) : path(TempDbPath(name)) {
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE e(id TEXT PRIMARY KEY, org TEXT, type TEXT, payload TEXT, created INTEGER);"
                 "CREATE TABLE d(id TEXT PRIMARY KEY, event TEXT, webhook TEXT, status INTEGER, attempts INTEGER,"
                 "               next INTEGER);"
                 "CREATE TABLE a(id TEXT PRIMARY KEY, delivery TEXT, status INTEGER, code INTEGER, body TEXT,"
                 "               signature TEXT, created INTEGER);",
                 nullptr, nullptr, nullptr);
  }
  ~RawDb() {
    sqlite3_close(db);
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
  }
};

void BM_RawSqliteInsert100x2(benchmark::State& state) {
  RawDb raw("raw_publish");
  const std::string payload(1100, 'x');
  sqlite3_stmt* ev = nullptr;
  sqlite3_stmt* de = nullptr;
  sqlite3_prepare_v2(raw.db, "INSERT INTO e VALUES(?1, 'org', 'order.created', ?2, 1)", -1, &ev, nullptr);
  sqlite3_prepare_v2(raw.db, "INSERT INTO d VALUES(?1, ?2, 'wh', 0, 0, 1)", -1, &de, nullptr);
  int64_t n = 0;
  for (auto _ : state) {
    sqlite3_exec(raw.db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int i = 0; i < 100; ++i, ++n) {
      const std::string id = Key('e', n);
      const std::string did = Key('d', n);
      sqlite3_bind_text(ev, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(ev, 2, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
      sqlite3_step(ev);
      sqlite3_reset(ev);
      sqlite3_bind_text(de, 1, did.data(), static_cast<int>(did.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(de, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_step(de);
      sqlite3_reset(de);
    }
    if (sqlite3_exec(raw.db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) state.SkipWithError("commit failed");
  }
  sqlite3_finalize(ev);
  sqlite3_finalize(de);
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_RawSqliteInsert100x2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RawSqliteInsertUpdate100(benchmark::State& state) {
  RawDb raw("raw_outcomes");
  sqlite3_stmt* at = nullptr;
  sqlite3_stmt* up = nullptr;
  sqlite3_stmt* de = nullptr;
  sqlite3_prepare_v2(raw.db, "INSERT INTO a VALUES(?1, ?2, 1, 200, 'ok', ?3, 1)", -1, &at, nullptr);
  sqlite3_prepare_v2(raw.db, "UPDATE d SET status = 1, attempts = 1 WHERE id = ?1", -1, &up, nullptr);
  sqlite3_prepare_v2(raw.db, "INSERT INTO d VALUES(?1, 'e', 'wh', 0, 0, 1)", -1, &de, nullptr);
  const std::string signature(64, 'f');
  int64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    sqlite3_exec(raw.db, "BEGIN", nullptr, nullptr, nullptr);
    for (int i = 0; i < 100; ++i) {
      const std::string did = Key('d', n + i);
      sqlite3_bind_text(de, 1, did.data(), static_cast<int>(did.size()), SQLITE_TRANSIENT);
      sqlite3_step(de);
      sqlite3_reset(de);
    }
    sqlite3_exec(raw.db, "COMMIT", nullptr, nullptr, nullptr);
    state.ResumeTiming();
    sqlite3_exec(raw.db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int i = 0; i < 100; ++i, ++n) {
      const std::string id = Key('a', n);
      const std::string did = Key('d', n);
      sqlite3_bind_text(at, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(at, 2, did.data(), static_cast<int>(did.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(at, 3, signature.data(), static_cast<int>(signature.size()), SQLITE_STATIC);
      sqlite3_step(at);
      sqlite3_reset(at);
      sqlite3_bind_text(up, 1, did.data(), static_cast<int>(did.size()), SQLITE_TRANSIENT);
      sqlite3_step(up);
      sqlite3_reset(up);
    }
    if (sqlite3_exec(raw.db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) state.SkipWithError("commit failed");
  }
  sqlite3_finalize(at);
  sqlite3_finalize(up);
  sqlite3_finalize(de);
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_RawSqliteInsertUpdate100)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// The incoming path's body delta (store/incoming_body.h) of a ~3 KB request whose body is
// the event's data with a newline and two spaces after each of its 60 fields: the encoder
// compares the body with the payload and checks its delta by replaying it against the body.
static void BM_EncodeBodyDelta3KiB(benchmark::State& state) {
  std::string data = "{", body = "{";
  for (int i = 0; i < 60; ++i) {
    const std::string field = "\"field_" + std::to_string(i) + "\":\"" + std::string(36, 'v') + "\"";
    data += (i ? "," : "") + field;
    body += (i ? ",\n  " : "\n  ") + field;
  }
  data += "}";
  body += "\n}";
  const std::string payload = R"({"event":"push","timestamp":"2026-01-01T00:00:00.000Z","organization_id":"o","data":)" +
                              data + "}";
  for (auto _ : state) {
    std::optional<std::string> delta = ulak::store::EncodeBodyDelta(body, payload);
    if (!delta) throw std::runtime_error("no delta");
    benchmark::DoNotOptimize(delta);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_EncodeBodyDelta3KiB);
