// The `ulak` subcommands. Each returns the process exit code.
#pragma once

#include "common/config.h"

namespace ulak::cli {

// Runs the server in the foreground until SIGINT or SIGTERM.
int RunServe(const Config& config);
// Applies pending schema migrations and reports the schema version.
int RunMigrate(const std::string& database_url);

}  // namespace ulak::cli
