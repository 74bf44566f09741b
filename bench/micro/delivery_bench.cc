// Micro-benchmarks of the per-delivery work on the hot path, each next to its floor where
// one makes sense:
// - signing both schemes (X-Webhook-Signature hex HMAC and Standard Webhooks v1) over a
//   1 KiB payload, next to a raw OpenSSL one-shot HMAC-SHA256 of the same bytes;
// - rendering the delivered body once at publish (delivery::RenderPayload), next to
//   boost::json::serialize of the same data alone;
// - retry scheduling (delivery::DelayBeforeRetry) for both policy kinds.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/random.h"
#include "delivery/payload.h"
#include "delivery/retry_policy.h"
#include "delivery/signer.h"

namespace {

const std::string kSecretHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string Payload1KiB() { return R"({"event":"order.created","data":{"pad":")" + std::string(990, 'x') + R"("}})"; }

void BM_SignSeed001_1KiB(benchmark::State& state) {
  const std::string body = Payload1KiB();
  for (auto _ : state) benchmark::DoNotOptimize(ulak::delivery::SignatureSeed001(kSecretHex, body));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_SignSeed001_1KiB);

void BM_SignStandardWebhooks_1KiB(benchmark::State& state) {
  const std::string body = Payload1KiB();
  const std::string id = "01a20737-0ce6-7e0e-b2ed-3d5ef2a8a7d5";
  for (auto _ : state) {
    benchmark::DoNotOptimize(ulak::delivery::SignatureStandard(kSecretHex, id, 1'700'000'000, body));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_SignStandardWebhooks_1KiB);

// The floor: OpenSSL's one-shot HMAC into a stack buffer, hex-encoded by hand; no strings
// allocated but the result.
void BM_RawOpenSslHmacHex_1KiB(benchmark::State& state) {
  const std::string body = Payload1KiB();
  static constexpr char kHex[] = "0123456789abcdef";
  for (auto _ : state) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecretHex.data(), static_cast<int>(kSecretHex.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
    std::string hex(len * 2, '0');
    for (unsigned i = 0; i < len; ++i) {
      hex[2 * i] = kHex[mac[i] >> 4];
      hex[2 * i + 1] = kHex[mac[i] & 15];
    }
    benchmark::DoNotOptimize(hex);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_RawOpenSslHmacHex_1KiB);

boost::json::value Data1KiB() { return boost::json::parse(R"({"id":"o-1","pad":")" + std::string(1000, 'x') + R"("})"); }

void BM_RenderPayload_1KiB(benchmark::State& state) {
  const boost::json::value data = Data1KiB();
  const boost::json::value metadata = boost::json::object();
  const ulak::TimePoint now = ulak::FromUnixMillis(1'700'000'000'123);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ulak::delivery::RenderPayload("order.created", now, "01a20737-0ce6-7e0e-b2ed-3d5ef2a8a7d5",
                                                           data, metadata));
  }
}
BENCHMARK(BM_RenderPayload_1KiB);

// The floor: serializing the data alone, which the rendered body must at least do.
void BM_BoostJsonSerializeData_1KiB(benchmark::State& state) {
  const boost::json::value data = Data1KiB();
  for (auto _ : state) benchmark::DoNotOptimize(boost::json::serialize(data));
}
BENCHMARK(BM_BoostJsonSerializeData_1KiB);

void BM_DelayBeforeRetry_Fixed(benchmark::State& state) {
  ulak::delivery::RetryPolicy policy;  // 60, 300, 1800 s
  ulak::SeededRandomForTest random(7);
  int attempt = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ulak::delivery::DelayBeforeRetry(policy, true, 3, attempt % 4 + 1, random));
    ++attempt;
  }
}
BENCHMARK(BM_DelayBeforeRetry_Fixed);

void BM_DelayBeforeRetry_ExponentialJitter(benchmark::State& state) {
  ulak::delivery::RetryPolicy policy;
  policy.kind = ulak::delivery::RetryPolicy::Kind::kExponential;
  ulak::SeededRandomForTest random(7);
  int attempt = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ulak::delivery::DelayBeforeRetry(policy, true, 5, attempt % 5 + 1, random));
    ++attempt;
  }
}
BENCHMARK(BM_DelayBeforeRetry_ExponentialJitter);

}  // namespace
