// The `ulak` subcommands. Each returns the process exit code.
#pragma once

#include "common/config.h"

namespace ulak::cli {

// Runs the server in the foreground until SIGINT or SIGTERM.
int RunServe(const Config& config);
// `ulak serve --check-config`: checks what serving would check before touching the database
// (values, allowed networks, database URL, master key and admin key variables), prints a
// summary and returns 0, or names the problem on stderr and returns 2. Creates no file.
int RunCheckConfig(const Config& config);
// Applies pending schema migrations and reports the schema version.
int RunMigrate(const std::string& database_url);
// Prints every source and webhook as seed 000's registry YAML.
int RunRegistry(const std::string& database_url, const std::string& organization_id);
// Re-encrypts every stored secret under ULAK_MASTER_KEY (ULAK_MASTER_KEY_PREVIOUS holds the
// keys they were sealed with); reports how many values were re-sealed. Run it with the
// server stopped (see store/encrypting_store.h).
int RunRotateMasterKey(const Config& config);
// Runs one retention pass in the foreground (store/retention.h) and prints what it deleted,
// or with dry_run what it would delete. older_than: "30d", "12h"...; empty: each
// organization's retention_days, else config.retention_days.
int RunPrune(const Config& config, const std::string& older_than, bool dry_run);

}  // namespace ulak::cli
