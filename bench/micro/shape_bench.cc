// Micro-benchmarks of delivery shaping (SPEC §7), each next to the cost of signing one
// delivery (BM_SignSeed001_1KiB + BM_SignStandardWebhooks_1KiB in delivery_bench.cc):
// - a 5-condition filter evaluated per event (at publish, once per webhook with a filter);
// - field selection, and a small Lua transformation, per delivery (at send time), both
//   including the parse of the stored body and the serialization of the shaped one
//   (delivery::ShapeDelivery, exactly what the engine runs);
// - the unshaped path's body work for comparison: none (the event's body is shared).
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>

#include "delivery/payload.h"
#include "delivery/shaped_request.h"
#include "delivery/signer.h"
#include "delivery/webhook_config.h"
#include "shape/filter.h"

namespace {

// Seed 001's example order as the delivered payload (about 600 bytes).
const char* kData = R"({"order_id":"550e8400-e29b-41d4-a716-446655440000","order_number":"ORD-2025-001",
  "customer":{"name":"Ahmet Yılmaz","email":"ahmet@example.com","phone":"+905551234567"},
  "items":[{"name":"Margherita Pizza","quantity":2,"price":89.90},{"name":"Ayran","quantity":2,"price":15}],
  "total_amount":209.80,"currency":"TRY","status":"pending","delivery_address":"Kadıköy, İstanbul",
  "created_at":"2025-01-15T10:30:00Z"})";

std::string Payload() {
  return ulak::delivery::RenderPayload("order.created", ulak::FromUnixMillis(1'700'000'000'123),
                                       "01a20737-0ce6-7e0e-b2ed-3d5ef2a8a7d5", boost::json::parse(kData),
                                       boost::json::object{{"source", "web"}});
}

std::shared_ptr<const ulak::delivery::WebhookConfig> Config(std::string fields, std::string lua) {
  ulak::store::Webhook w;
  w.id = "w";
  w.url = "https://receiver.example/hook";
  w.secret_key = std::string(64, 'a');
  w.events_json = R"(["*"])";
  w.custom_headers_json = R"({"X-Api-Key":"k"})";
  w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
  w.fields_json = std::move(fields);
  w.transform_lua = std::move(lua);
  return ulak::delivery::ParseWebhookConfig(std::move(w)).value();
}

void BM_Filter5Conditions_PerEvent(benchmark::State& state) {
  auto filter = ulak::shape::Filter::Compile(boost::json::parse(R"({
      "event": {"$regex": "^order\\."}, "data.status": {"$in": ["pending", "paid"]},
      "data.total_amount": {"$gte": 100}, "data.items.name": "Margherita Pizza",
      "data.customer.email": {"$exist": true}})")).value();
  const boost::json::value payload = boost::json::parse(Payload());
  bool matched = false;
  for (auto _ : state) benchmark::DoNotOptimize(matched = filter->Matches(payload));
  if (!matched) state.SkipWithError("the filter should match");
}
BENCHMARK(BM_Filter5Conditions_PerEvent);

void BM_FieldSelection_PerDelivery(benchmark::State& state) {
  auto config = Config(R"(["order_number","total_amount","items[].name"])", "");
  const std::string payload = Payload();
  for (auto _ : state) benchmark::DoNotOptimize(ulak::delivery::ShapeRequest(*config, payload));
}
BENCHMARK(BM_FieldSelection_PerDelivery);

void BM_LuaTransformSmall_PerDelivery(benchmark::State& state) {
  auto config = Config("", R"(
    function transform(webhook)
      local d = webhook.payload.data
      webhook.headers["X-Order"] = d.order_number
      webhook.payload = {text = "New order " .. d.order_number .. ": " .. d.total_amount .. " " .. d.currency,
                         items = #d.items}
      return webhook
    end)");
  const std::string payload = Payload();
  for (auto _ : state) {
    auto shaped = ulak::delivery::ShapeRequest(*config, payload);
    if (!shaped.ok()) state.SkipWithError(shaped.status().message().c_str());
    benchmark::DoNotOptimize(shaped);
  }
}
BENCHMARK(BM_LuaTransformSmall_PerDelivery);

// The reference: signing one delivery of the same payload both ways.
void BM_SignBoth_PerDelivery(benchmark::State& state) {
  const std::string payload = Payload();
  const std::string secret(64, 'a');
  for (auto _ : state) {
    benchmark::DoNotOptimize(ulak::delivery::SignatureSeed001(secret, payload));
    benchmark::DoNotOptimize(
        ulak::delivery::SignatureStandard(secret, "01a20737-0ce6-7e0e-b2ed-3d5ef2a8a7d5", 1'700'000'000, payload));
  }
}
BENCHMARK(BM_SignBoth_PerDelivery);

}  // namespace
