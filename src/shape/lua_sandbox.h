// Internals shared by the Lua sandbox's files (lua_transform.cc, lua_json.cc,
// lua_search.cc); not an API. See lua_transform.h for what the sandbox is.
#pragma once

#include <boost/json/value.hpp>

#include <lua.hpp>
#include <re2/re2.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "shape/lua_transform.h"

namespace ulak::shape::lua {

constexpr int kMaxDepth = 64;  // JSON nesting both ways (and cycles in tables)

// Registry keys (their addresses are unique): the metatable marking arrays, and the weak
// table of objects' member order.
extern char kArrayMetaKey;
extern char kOrderKey;

// One Lua state with its caps. The allocator and the hook find it through the state's
// extra space.
struct Sandbox {
  lua_State* L = nullptr;
  size_t used = 0;
  size_t limit = SIZE_MAX;  // raised only while a run is under way
  int64_t executed = 0;
  int64_t budget = INT64_MAX;
  bool aborted = false;  // a cap broke: the script's pcall must not swallow it
  std::string abort_reason;
  int transform_ref = LUA_NOREF;
  LuaLimits limits;
  // A safety net for work done in C between two hook calls (library functions called in a
  // loop): the run also stops once this passes. Steady clock, read only by the hook.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::unordered_map<std::string, std::unique_ptr<RE2>> regexes;  // re.*: compiled once per state

  ~Sandbox() {
    if (L != nullptr) lua_close(L);
  }
};

inline Sandbox* Of(lua_State* L) { return *static_cast<Sandbox**>(lua_getextraspace(L)); }

// Charges C work to the run's instruction budget (about one instruction per 16 bytes), so
// that a loop of expensive calls meets the cap as soon as a loop of cheap ones would.
inline void Charge(lua_State* L, double bytes) {
  Sandbox* s = Of(L);
  s->executed += static_cast<int64_t>(std::min(bytes / 16, 1e15));
}

// lua_json.cc: JSON <-> Lua. PushJson may raise (call it in protected mode); ToJson never
// raises (raw access only) and reports what JSON cannot hold, with its path.
void PushJson(lua_State* L, const boost::json::value& v, int depth);
Status ToJson(lua_State* L, int index, int depth, const std::string& path, boost::json::value& out);
bool ValidUtf8(std::string_view s);
// REQUIRES: a string at `index` (no conversion happens).
std::string_view LuaString(lua_State* L, int index);
// Sets up the registry entries and the global `json` (globals at stack index `globals`).
void OpenJson(lua_State* L, int globals);

// lua_search.cc: string.find/match/gmatch/gsub limited to plain text, and the global `re`.
// REQUIRES: the string library is open in `globals`.
void OpenSearch(lua_State* L, int globals);

}  // namespace ulak::shape::lua
