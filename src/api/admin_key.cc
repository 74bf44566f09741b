#include "api/admin_key.h"

#include "api/auth.h"

namespace ulak::api {

Result<AdminKeySetup> SetUpAdminKey(store::Store& store, Random& random,
                                    const std::optional<std::string>& env_key) {
  if (env_key) {
    if (env_key->size() < kMinAdminKeyLength) {
      return InvalidArgument("ULAK_ADMIN_KEY must be at least " + std::to_string(kMinAdminKeyLength) +
                             " characters long; generate one with `openssl rand -hex 32`");
    }
    return AdminKeySetup{HashKey(*env_key), std::nullopt};
  }
  const MintedKey minted = MintKey(random, kAdminKeyPrefix);
  // If two processes race on first start, only one hash is stored and only its owner
  // prints the key.
  ULAK_ASSIGN_OR_RETURN(std::string stored, store.PutSettingIfAbsent("admin_key_hash", minted.hash));
  if (stored == minted.hash) return AdminKeySetup{minted.hash, minted.secret};
  return AdminKeySetup{std::move(stored), std::nullopt};
}

}  // namespace ulak::api
