// Records of the web UI's backing features: delivery statistics per time bucket, the tenant
// portal's revocation generation, and request inboxes. Plain values: no behaviour, no I/O.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"

namespace ulak::store {

// Attempts of one organization (and optionally one webhook) created in [from, to), grouped
// by created_at into buckets of bucket_ms (aligned to the unix epoch, so UTC days).
struct DeliveryBucketFilter {
  std::string organization_id;  // required
  std::string webhook_id;       // empty: every webhook of the organization
  TimePoint from;
  TimePoint to;
  int64_t bucket_ms = 3'600'000;
};

// One bucket with at least one attempt. p95 is the nearest-rank 95th percentile (the
// smallest response time at or above 95% of the bucket's attempts).
struct DeliveryBucket {
  TimePoint start;
  int64_t success = 0;
  int64_t failed = 0;
  int64_t retrying = 0;
  double avg_response_ms = 0;
  int64_t p95_response_ms = 0;
};

// A request inbox: a URL of ulak itself that records whatever is sent to it.
struct Inbox {
  std::string id;               // random, unguessable: it is the URL
  std::string organization_id;
  std::string name;
  int response_status = 200;    // what /in/<id> answers
  TimePoint created_at;
};

struct InboxRequest {
  std::string id;  // UUIDv7: newest first by id
  std::string inbox_id;
  std::string method;
  std::string path;
  std::string query;
  std::string headers_json;  // [[name, value], ...] in the order received
  std::string body;          // at most the inbox's body limit, raw bytes
  std::string remote_address;
  TimePoint received_at;
};

}  // namespace ulak::store
