// Store micro-benchmarks: the authenticated-request lookup (API key by hash) against a real
// SQLite file, next to SQLite's own floor for the same query shape (a prepared SELECT by
// primary key), so the figure reads as a ratio to what SQLite itself can do.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <filesystem>

#include "common/clock.h"
#include "common/ids.h"
#include "crypto/hash.h"
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

}  // namespace
