// The `ulak` subcommands. Each returns the process exit code.
#pragma once

#include "common/config.h"

namespace ulak::cli {

// Runs the server in the foreground until SIGINT or SIGTERM.
int RunServe(const Config& config);
// Applies pending schema migrations and reports the schema version.
int RunMigrate(const std::string& database_url);
// Prints every source and webhook as seed 000's registry YAML.
int RunRegistry(const std::string& database_url, const std::string& organization_id);

}  // namespace ulak::cli
