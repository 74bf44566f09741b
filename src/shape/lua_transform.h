// Transformations: a webhook's Lua 5.4 script reshapes each delivery (SPEC §7, issue 13).
//
// The script defines `function transform(webhook)`; `webhook` is {method, url, headers,
// payload} (payload as Lua tables; JSON null is `json.null`, arrays carry a metatable so an
// empty one stays []); it returns the table changed, or nil to skip the delivery.
//
// Sandbox: only the basic functions that cannot reach outside (no load, dofile, require,
// collectgarbage, print, xpcall; setmetatable refuses __gc), `string` (without dump),
// `table`, `math` (without randomseed), `utf8`, `json` (encode, decode, null, array) and `re`
// (find, match, gsub with RE2 regexes, linear time). string.find/match/gmatch/gsub take plain
// text only: Lua patterns backtrack in C, where no cap can stop them. Text chunks only,
// never bytecode from the script. Each run is capped in memory (through the
// allocator) and in VM instructions (a count hook); the script's own pcall cannot catch a cap.
// A broken cap, an error or an invalid result is an error whose message carries the Lua line.
//
// Compiled once per configuration (LuaProgram: checked and turned into bytecode); every
// thread that runs it keeps its own Lua state per program (never shared across threads).
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ulak::shape {

struct LuaLimits {
  size_t memory_bytes = 8 << 20;  // per run, above what the state held before it
  int64_t instructions = 2'000'000;  // about 10 ms of plain Lua on one core
  // A safety net, not the cap tests rely on: work done inside library functions (in C,
  // where the count hook does not run) is charged by size, and a run also stops at this.
  int64_t wall_ms = 1000;
};

// What a transformation receives and returns.
struct ShapedRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // the webhook's custom headers
  boost::json::value payload;
};

class LuaProgram {
 public:
  // Compiles `source` and runs its top level once in a fresh sandbox (under `limits`) to
  // check that it defines transform(webhook). Errors are kInvalidArgument naming `field`.
  static Result<std::shared_ptr<const LuaProgram>> Compile(std::string_view source, LuaLimits limits = {},
                                                           std::string_view field = "transform.lua");

  uint64_t id() const { return id_; }  // unique in the process: the per-thread states' key
  const std::string& bytecode() const { return bytecode_; }
  const LuaLimits& limits() const { return limits_; }

 private:
  uint64_t id_ = 0;
  std::string bytecode_;  // our own compilation of the source, with line information
  LuaLimits limits_;
};

// Runs the program on `in` in this thread's state for it. nullopt: the script returned nil
// (skip the delivery). An error (kInvalidArgument) says why, with the line when Lua knows it.
Result<std::optional<ShapedRequest>> RunTransform(const LuaProgram& program, const ShapedRequest& in);

}  // namespace ulak::shape
