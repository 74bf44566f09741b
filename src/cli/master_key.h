// The master key that encrypts secrets at rest (crypto::SecretBox), from the environment:
//
//   ULAK_MASTER_KEY           the current key: 64 hex characters or base64 of 32 bytes
//   ULAK_MASTER_KEY_PREVIOUS  older keys, comma-separated, still accepted for reading
//
// Production mode requires ULAK_MASTER_KEY. Development mode without it uses
// <data dir>/master.key, generated on first use with mode 0600, and logs a warning: secrets
// are still never stored in clear, but the key sits next to the data it protects.
//
// The keys live only in the environment, never in the YAML config (a file that gets copied
// around) and never in the log (only key ids, which reveal nothing).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"
#include "crypto/secret_box.h"

namespace ulak::cli {

inline constexpr std::string_view kMasterKeyFileName = "master.key";

// The directory the development key file lives in: the SQLite file's directory, or ./data
// for a database that is not a file (PostgreSQL).
std::string DataDirectoryFor(std::string_view database_url);

// Builds the keyring as described above. Errors name the variable at fault and never repeat
// a key. `getenv` is injectable for tests.
Result<std::shared_ptr<const crypto::SecretBox>> LoadSecretBox(const Config& config, const std::string& data_dir,
                                                               const GetEnv& getenv = ProcessEnv);

// What LoadSecretBox would refuse, without creating or reading the development key file:
// a malformed ULAK_MASTER_KEY or ULAK_MASTER_KEY_PREVIOUS, or no key where one is required.
Status CheckMasterKeySettings(const Config& config, const std::string& data_dir, const GetEnv& getenv = ProcessEnv);

}  // namespace ulak::cli
