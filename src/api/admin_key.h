// The admin key: from ULAK_ADMIN_KEY when set, otherwise generated on the first start and
// stored only as its hash (setting "admin_key_hash").
#pragma once

#include <optional>
#include <string>

#include "common/random.h"
#include "common/status.h"
#include "store/store.h"

namespace ulak::api {

struct AdminKeySetup {
  std::string hash;                           // what Authenticator compares against
  std::optional<std::string> generated_key;   // set only on the start that generated it
};

inline constexpr size_t kMinAdminKeyLength = 32;

// env_key: the value of ULAK_ADMIN_KEY, if any. Shorter than kMinAdminKeyLength is refused.
Result<AdminKeySetup> SetUpAdminKey(store::Store& store, Random& random,
                                    const std::optional<std::string>& env_key);

}  // namespace ulak::api
