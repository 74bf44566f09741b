// Micro-benchmarks of the per-request crypto: API key hashing (every authenticated request)
// and HMAC-SHA256 over a 1 KiB body (every delivery and every incoming verification).
#include <benchmark/benchmark.h>

#include "crypto/hash.h"

namespace {

void BM_HashApiKey(benchmark::State& state) {
  const std::string key = "ulak_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
  for (auto _ : state) benchmark::DoNotOptimize(ulak::crypto::Sha256(key));
}
BENCHMARK(BM_HashApiKey);

void BM_HmacSha256_1KiB(benchmark::State& state) {
  const std::string key(64, 'k');
  const std::string body(1024, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(ulak::crypto::HmacSha256(key, body));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}
BENCHMARK(BM_HmacSha256_1KiB);

}  // namespace
