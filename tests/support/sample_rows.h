// Rows with every column a store requires, for tests that need one to hang other rows on
// (deliveries on a webhook). Tests change the fields they are about afterwards.
#pragma once

#include <string>
#include <utility>

#include "common/clock.h"
#include "store/types.h"

namespace ulak::testing {

// A webhook subscribed to every event, with a fixed 60 s retry and a 64-character secret.
inline store::Webhook SampleWebhook(std::string id, std::string organization_id, TimePoint now) {
  store::Webhook w;
  w.id = std::move(id);
  w.organization_id = std::move(organization_id);
  w.name = "hook";
  w.url = "https://example.com/hook";
  w.secret_key = std::string(64, 'a');
  w.events_json = R"(["*"])";
  w.custom_headers_json = "{}";
  w.retry_policy_json = R"({"kind":"fixed","delays_s":[60]})";
  w.created_at = w.updated_at = now;
  return w;
}

}  // namespace ulak::testing
