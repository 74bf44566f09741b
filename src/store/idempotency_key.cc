#include "store/idempotency_key.h"

#include "crypto/hash.h"

namespace ulak::store {

std::string IdempotencyKey(std::string_view organization_id, std::string_view event_id) {
  std::string input;
  input.reserve(organization_id.size() + 1 + event_id.size());
  input += organization_id;
  input += '\0';
  input += event_id;
  return crypto::Sha256(input).substr(0, kIdempotencyKeyBytes);
}

}  // namespace ulak::store
