// The de-duplication key of an event (issue 17): the first 16 bytes of
// SHA-256(organization_id, 0x00, event_id), kept in events.idempotency_key under a unique
// index, instead of an index on the two texts (an organization id and a provider's id, often
// 60-80 bytes per entry). PostgreSQL's migration 0013 computes the same bytes in SQL.
// Lookups compare the texts too, so a (never seen) collision is an error, not a wrong answer.
#pragma once

#include <string>
#include <string_view>

namespace ulak::store {

constexpr size_t kIdempotencyKeyBytes = 16;

// REQUIRES: !event_id.empty() (an event without a producer id has no key).
std::string IdempotencyKey(std::string_view organization_id, std::string_view event_id);

}  // namespace ulak::store
