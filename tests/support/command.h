// Runs a helper program (python3, node, a shell script) to completion for a test, without
// a shell: arguments are passed as they are, so bodies and secrets need no quoting.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ulak::testing {

struct CommandResult {
  int exit_code = -1;  // 127: could not start; 128+N: killed by signal N; -1: timed out
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (looked up in PATH) with argv, the parent's environment plus extra_env
// (NAME=VALUE), stdin from /dev/null. Output is collected through a file under scratch_dir.
// Kills the child after timeout.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                         const std::string& scratch_dir,
                         std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace ulak::testing
