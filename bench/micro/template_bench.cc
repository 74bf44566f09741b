// Micro-benchmarks of building one try's request (issue 12): a plain webhook (the shared
// body, signed: today's path) next to templated ones (payload parsed, template rendered,
// body serialized once, signed). Seed 001's example order as the event.
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>

#include "delivery/request.h"
#include "delivery/shaped_request.h"
#include "delivery/webhook_config.h"
#include "shape/templates/template.h"

namespace {

using namespace ulak;

std::shared_ptr<const delivery::WebhookConfig> Config(const std::string& template_json, const std::string& auth_json) {
  store::Webhook w;
  w.id = "01a20737-0ce6-7e0e-b2ed-3d5ef2a8a7d5";
  w.url = "https://acme.my.salesforce.com";
  w.secret_key = std::string(64, 'a');
  w.events_json = R"(["order.*"])";
  w.custom_headers_json = "{}";
  w.retry_policy_json = delivery::RetryPolicyToJson(delivery::RetryPolicy{});
  w.template_json = template_json;
  w.template_auth_json = auth_json;
  return delivery::ParseWebhookConfig(std::move(w)).value();
}

const std::string& OrderPayload() {
  static const std::string payload = boost::json::serialize(shape::SeedExampleOrderEvent());
  return payload;
}

// The plain path shares the event's body (BuildDeliveryRequest takes it by shared_ptr).
const std::shared_ptr<const std::string>& SharedOrderPayload() {
  static const auto payload = std::make_shared<const std::string>(OrderPayload());
  return payload;
}

void BM_Request_Plain(benchmark::State& state) {
  auto config = Config("", "");
  const TimePoint now = FromUnixMillis(1'700'000'000'000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(delivery::BuildDeliveryRequest(*config, config->record.id, SharedOrderPayload(), now));
  }
}
BENCHMARK(BM_Request_Plain);

void Templated(benchmark::State& state, const std::string& template_json) {
  auto config = Config(template_json, R"({"access_token":"00D...token"})");
  const TimePoint now = FromUnixMillis(1'700'000'000'000);
  for (auto _ : state) {
    ulak::Result<delivery::ShapedRequest> shaped = delivery::ShapeRequest(*config, OrderPayload());
    benchmark::DoNotOptimize(
        delivery::SignShapedRequest(*config, config->record.id, *shaped, config->template_auth.access_token, now));
  }
}

void BM_Request_Salesforce(benchmark::State& state) {
  Templated(state, R"({"name":"salesforce","params":{"status_map":{"pending":"Pending"}}})");
}
BENCHMARK(BM_Request_Salesforce);

void BM_Request_HubSpotUpsert(benchmark::State& state) {
  Templated(state, R"({"name":"hubspot","params":{"upsert":true}})");
}
BENCHMARK(BM_Request_HubSpotUpsert);

}  // namespace
