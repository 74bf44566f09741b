#include "shape/lua_transform.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <lua.hpp>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>

#include "shape/json_number.h"

namespace ulak::shape {
namespace {

constexpr int kHookEvery = 100;  // instructions between two looks at the budget and the clock
// Plain searches (string.find & co. without pattern characters) compare up to
// subject x pattern bytes in C, where no hook runs: that product is bounded.
constexpr double kMaxPlainSearchWork = 2e8;
constexpr size_t kMaxRegexLength = 1000;
constexpr int kMaxRegexGroups = 16;
constexpr size_t kMaxRegexes = 64;  // compiled regexes kept per state
constexpr int kMaxDepth = 64;     // JSON nesting both ways (and cycles in tables)
// Registry keys (their addresses are unique).
char kArrayMetaKey;
char kOrderKey;

std::atomic<uint64_t> next_program_id{1};

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

Sandbox* Of(lua_State* L) { return *static_cast<Sandbox**>(lua_getextraspace(L)); }

void* Allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* s = static_cast<Sandbox*>(ud);
  const size_t old = ptr != nullptr ? osize : 0;
  if (nsize == 0) {
    s->used -= old;
    std::free(ptr);
    return nullptr;
  }
  // Refused: Lua collects garbage and asks again, and raises LUA_ERRMEM only if that fails.
  if (nsize > old && s->used + (nsize - old) > s->limit) return nullptr;
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  s->used = s->used - old + nsize;
  return p;
}

void CountHook(lua_State* L, lua_Debug* ar) {
  Sandbox* s = Of(L);
  s->executed += kHookEvery;
  const bool over_time = std::chrono::steady_clock::now() > s->deadline;
  if (s->executed <= s->budget && !over_time && !s->aborted) return;
  lua_getinfo(L, "Sl", ar);
  if (!s->aborted) {
    s->aborted = true;
    s->abort_reason = "transform:" + std::to_string(ar->currentline) + ": stopped after " +
                      (over_time ? std::to_string(s->limits.wall_ms) + " ms (the time limit)"
                                 : std::to_string(s->limits.instructions) + " instructions (the instruction limit)");
  }
  lua_pushstring(L, s->abort_reason.c_str());
  lua_error(L);
}

// pcall for scripts: a broken cap goes on up, whatever the script does.
int SandboxPcall(lua_State* L) {
  luaL_checkany(L, 1);
  const int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  if (Of(L)->aborted || status == LUA_ERRMEM) return lua_error(L);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, 1);
  return lua_gettop(L);
}

// setmetatable for scripts: no finalizers, which would run outside any run's caps.
int SandboxSetmetatable(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "__gc");
    const bool gc = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (gc) return luaL_error(L, "__gc metamethods are not available in transformations");
  } else if (!lua_isnil(L, 2)) {
    return luaL_typeerror(L, 2, "nil or table");
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// --- JSON to Lua (inside protected calls: may raise) ------------------------------------

void PushJson(lua_State* L, const boost::json::value& v, int depth) {
  luaL_checkstack(L, 4, "JSON nested too deeply");
  if (depth > kMaxDepth) luaL_error(L, "JSON nested more than 64 levels deep");
  switch (v.kind()) {
    case boost::json::kind::null: lua_pushlightuserdata(L, nullptr); return;
    case boost::json::kind::bool_: lua_pushboolean(L, v.get_bool()); return;
    case boost::json::kind::int64: lua_pushinteger(L, v.get_int64()); return;
    case boost::json::kind::uint64: lua_pushnumber(L, static_cast<double>(v.get_uint64())); return;
    case boost::json::kind::double_: lua_pushnumber(L, v.get_double()); return;
    case boost::json::kind::string: lua_pushlstring(L, v.get_string().data(), v.get_string().size()); return;
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      lua_createtable(L, static_cast<int>(std::min<size_t>(a.size(), INT32_MAX)), 0);
      lua_Integer i = 0;
      for (const auto& e : a) {
        PushJson(L, e, depth + 1);
        lua_rawseti(L, -2, ++i);
      }
      lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetaKey);
      lua_setmetatable(L, -2);
      return;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      lua_createtable(L, 0, static_cast<int>(std::min<size_t>(o.size(), INT32_MAX)));
      const int table = lua_gettop(L);
      lua_createtable(L, static_cast<int>(std::min<size_t>(o.size(), INT32_MAX)), 0);  // the members' order
      const int order = lua_gettop(L);
      lua_Integer i = 0;
      for (const auto& [k, e] : o) {
        lua_pushlstring(L, k.data(), k.size());
        lua_pushvalue(L, -1);
        lua_rawseti(L, order, ++i);
        PushJson(L, e, depth + 1);
        lua_rawset(L, table);
      }
      lua_rawgetp(L, LUA_REGISTRYINDEX, &kOrderKey);
      lua_pushvalue(L, table);
      lua_pushvalue(L, order);
      lua_rawset(L, -3);
      lua_pop(L, 2);  // the order registry and the order list
      return;
    }
  }
}

// --- Lua to JSON (never raises: raw access only, no conversions) --------------------------

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t n = (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 0;
    if (n == 0 || i + n >= s.size()) return false;
    uint32_t cp = n == 1 ? (c & 0x1f) : n == 2 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string_view LuaString(lua_State* L, int index) {
  size_t n = 0;
  const char* p = lua_tolstring(L, index, &n);  // REQUIRES: a string (no conversion happens)
  return std::string_view(p, n);
}

Status ToJson(lua_State* L, int index, int depth, const std::string& path, boost::json::value& out);

Status TableToJson(lua_State* L, int index, int depth, const std::string& path, boost::json::value& out) {
  index = lua_absindex(L, index);
  bool marked_array = false;
  if (lua_getmetatable(L, index)) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetaKey);
    marked_array = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  // Count the entries and see whether they are exactly 1..n.
  lua_Integer count = 0;
  lua_Integer max_key = 0;
  bool all_positive_integers = true;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    ++count;
    if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
      max_key = std::max(max_key, lua_tointeger(L, -1));
    } else {
      all_positive_integers = false;
    }
  }
  if (marked_array || (count > 0 && all_positive_integers && max_key == count)) {
    if (!all_positive_integers) return InvalidArgument("transform returned an array with non-numeric keys at " + path);
    const lua_Integer n = std::max(max_key, static_cast<lua_Integer>(lua_rawlen(L, index)));
    if (n > 10'000'000) return InvalidArgument("transform returned an array too large at " + path);
    boost::json::array a;
    a.reserve(static_cast<size_t>(n));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, index, i);
      boost::json::value e;
      Status s = lua_isnil(L, -1) ? Status::Ok() : ToJson(L, -1, depth + 1, path + "[" + std::to_string(i - 1) + "]", e);
      lua_pop(L, 1);
      ULAK_RETURN_IF_ERROR(s);
      a.push_back(std::move(e));
    }
    out = std::move(a);
    return Status::Ok();
  }
  boost::json::object o;
  std::set<std::string, std::less<>> seen;
  // First the members the object had (in their order), then any new ones (sorted).
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kOrderKey);
  lua_pushvalue(L, index);
  lua_rawget(L, -2);
  if (lua_istable(L, -1)) {
    const int order = lua_gettop(L);
    for (lua_Integer i = 1;; ++i) {
      if (lua_rawgeti(L, order, i) != LUA_TSTRING) {
        lua_pop(L, 1);
        break;
      }
      const std::string key(LuaString(L, -1));
      lua_rawget(L, index);  // pops the key
      if (!lua_isnil(L, -1) && seen.insert(key).second) {
        boost::json::value e;
        Status s = ToJson(L, -1, depth + 1, path + "." + key, e);
        if (!s.ok()) {
          lua_pop(L, 3);
          return s;
        }
        o.emplace(key, std::move(e));
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
  std::vector<std::string> added;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    std::string key;
    if (lua_type(L, -1) == LUA_TSTRING) {
      key = std::string(LuaString(L, -1));
    } else if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1)) {
      key = std::to_string(lua_tointeger(L, -1));
    } else {
      lua_pop(L, 1);
      return InvalidArgument("transform returned a table with a key that is not a string or an integer at " + path);
    }
    if (!seen.contains(key)) added.push_back(std::move(key));
  }
  std::sort(added.begin(), added.end());
  for (const std::string& key : added) {
    if (!ValidUtf8(key)) return InvalidArgument("transform returned a key that is not UTF-8 at " + path);
    // Integer keys were turned to text: look them up as integers again.
    lua_pushlstring(L, key.data(), key.size());
    lua_rawget(L, index);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      char* end = nullptr;
      const long long k = std::strtoll(key.c_str(), &end, 10);
      lua_rawgeti(L, index, k);
    }
    boost::json::value e;
    Status s = ToJson(L, -1, depth + 1, path + "." + key, e);
    lua_pop(L, 1);
    ULAK_RETURN_IF_ERROR(s);
    o.emplace(key, std::move(e));
  }
  out = std::move(o);
  return Status::Ok();
}

Status ToJson(lua_State* L, int index, int depth, const std::string& path, boost::json::value& out) {
  if (depth > kMaxDepth) return InvalidArgument("transform returned tables nested more than 64 levels (a cycle?) at " + path);
  if (!lua_checkstack(L, 8)) return InvalidArgument("transform returned tables nested too deeply at " + path);
  switch (lua_type(L, index)) {
    case LUA_TNIL: out = nullptr; return Status::Ok();
    case LUA_TBOOLEAN: out = static_cast<bool>(lua_toboolean(L, index)); return Status::Ok();
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) {
        out = static_cast<int64_t>(lua_tointeger(L, index));
      } else {
        const double d = lua_tonumber(L, index);
        if (!std::isfinite(d)) return InvalidArgument("transform returned a number that is not finite at " + path);
        out = d;
      }
      return Status::Ok();
    case LUA_TSTRING: {
      const std::string_view s = LuaString(L, index);
      if (!ValidUtf8(s)) return InvalidArgument("transform returned a string that is not UTF-8 at " + path);
      out = boost::json::string(s);
      return Status::Ok();
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == nullptr) {
        out = nullptr;
        return Status::Ok();
      }
      break;
    case LUA_TTABLE: return TableToJson(L, index, depth, path, out);
    default: break;
  }
  return InvalidArgument(std::string("transform returned a ") + luaL_typename(L, index) + " at " + path +
                         ", which JSON cannot hold");
}

// --- the json helper --------------------------------------------------------------------

int JsonEncode(lua_State* L) {
  luaL_checkany(L, 1);
  boost::json::value v;
  Status s = ToJson(L, 1, 0, "value", v);
  if (!s.ok()) {
    lua_pushstring(L, s.message().c_str());
    return lua_error(L);
  }
  const std::string text = SerializeJson(v);
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

// A parsed document kept in a userdata so that a memory error while pushing it cannot leak it.
struct ParsedBox {
  boost::json::value value;
};
int ParsedBoxGc(lua_State* L) {
  static_cast<ParsedBox*>(lua_touserdata(L, 1))->~ParsedBox();
  return 0;
}

int JsonDecode(lua_State* L) {
  size_t n = 0;
  const char* text = luaL_checklstring(L, 1, &n);
  auto* box = static_cast<ParsedBox*>(lua_newuserdatauv(L, sizeof(ParsedBox), 0));
  new (box) ParsedBox();
  lua_newtable(L);
  lua_pushcfunction(L, ParsedBoxGc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  boost::system::error_code ec;
  box->value = boost::json::parse(std::string_view(text, n), ec);
  if (ec) return luaL_error(L, "json.decode: not valid JSON");
  PushJson(L, box->value, 0);
  return 1;
}

int JsonArray(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMetaKey);
  lua_setmetatable(L, -2);
  return 1;
}

// --- searching: plain string searches, and regexes through RE2 ---------------------------

// Charges C work to the run's instruction budget (about one instruction per 16 bytes), so
// that a loop of expensive calls meets the cap as soon as a loop of cheap ones would.
void Charge(lua_State* L, double bytes) {
  Sandbox* s = Of(L);
  s->executed += static_cast<int64_t>(std::min(bytes / 16, 1e15));
}

// string.find/match/gmatch/gsub with the pattern argument restricted to plain text: Lua's
// pattern matcher backtracks in C, where no hook can stop it, and some patterns take
// hours. Upvalue 1: the original function; upvalue 2: the index of find's `plain` argument.
int GuardedStringSearch(lua_State* L) {
  size_t n = 0;
  size_t m = 0;
  luaL_checklstring(L, 1, &n);
  const char* p = luaL_checklstring(L, 2, &m);
  const int plain_arg = static_cast<int>(lua_tointeger(L, lua_upvalueindex(2)));
  const bool plain = plain_arg > 0 && lua_toboolean(L, plain_arg);
  if (!plain && std::string_view(p, m).find_first_of("^$*+?.([%-") != std::string_view::npos) {
    return luaL_error(L,
                      "Lua patterns are not available in transformations (their backtracking has no bound); "
                      "use re.find, re.match or re.gsub (RE2 syntax), or plain text");
  }
  const double work = (static_cast<double>(n) + 1) * (static_cast<double>(m) + 1);
  if (work > kMaxPlainSearchWork) return luaL_error(L, "search too large: %d bytes for a %d-byte text", (int)n, (int)m);
  Charge(L, work);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// The state's compiled regex for `pattern`, or nullptr with `error` set. No Lua calls here.
const RE2* CompiledRegex(Sandbox& s, std::string_view pattern, std::string& error) {
  if (pattern.size() > kMaxRegexLength) {
    error = "re: a regular expression may be at most 1000 characters long";
    return nullptr;
  }
  auto it = s.regexes.find(std::string(pattern));
  if (it != s.regexes.end()) return it->second.get();
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);
  auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    error = "re: invalid regular expression: " + re->error();
    return nullptr;
  }
  if (re->NumberOfCapturingGroups() > kMaxRegexGroups) {
    error = "re: at most 16 capturing groups";
    return nullptr;
  }
  if (s.regexes.size() >= kMaxRegexes) s.regexes.clear();
  return s.regexes.emplace(std::string(pattern), std::move(re)).first->second.get();
}

// Reads (subject, pattern) and compiles the pattern; raises a Lua error on failure.
const RE2* RegexArgs(lua_State* L, std::string_view& subject) {
  size_t n = 0;
  size_t m = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  const char* p = luaL_checklstring(L, 2, &m);
  subject = std::string_view(s, n);
  char message[512];
  const RE2* re = nullptr;
  {
    std::string error;
    re = CompiledRegex(*Of(L), std::string_view(p, m), error);
    std::snprintf(message, sizeof message, "%s", error.c_str());
  }  // no C++ object outlives this block: luaL_error below does not return
  if (re == nullptr) luaL_error(L, "%s", message);
  Charge(L, static_cast<double>(n));
  return re;
}

// Pushes group `i` of a match (nil when it did not take part).
void PushGroup(lua_State* L, const re2::StringPiece& g) {
  if (g.data() == nullptr) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, g.data(), g.size());
  }
}

// re.find(s, regex [, init]) -> start, end (1-based, inclusive) or nil.
int ReFind(lua_State* L) {
  std::string_view s;
  const RE2* re = RegexArgs(L, s);
  const lua_Integer init = luaL_optinteger(L, 3, 1);
  if (init < 1 || static_cast<size_t>(init) > s.size() + 1) return luaL_error(L, "re.find: init out of range");
  re2::StringPiece match;
  if (!re->Match(re2::StringPiece(s.data(), s.size()), static_cast<size_t>(init - 1), s.size(), RE2::UNANCHORED, &match,
                 1)) {
    lua_pushnil(L);
    return 1;
  }
  const lua_Integer start = static_cast<lua_Integer>(match.data() - s.data()) + 1;
  lua_pushinteger(L, start);
  lua_pushinteger(L, start + static_cast<lua_Integer>(match.size()) - 1);
  return 2;
}

// re.match(s, regex) -> the captures (or the whole match without groups), or nil.
int ReMatch(lua_State* L) {
  std::string_view s;
  const RE2* re = RegexArgs(L, s);
  const int groups = re->NumberOfCapturingGroups();
  re2::StringPiece found[kMaxRegexGroups + 1];
  if (!re->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, found, groups + 1)) {
    lua_pushnil(L);
    return 1;
  }
  if (groups == 0) {
    PushGroup(L, found[0]);
    return 1;
  }
  luaL_checkstack(L, groups, "too many captures");
  for (int i = 1; i <= groups; ++i) PushGroup(L, found[i]);
  return groups;
}

// re.gsub(s, regex, repl) -> new string, count. `repl` is a string where %0-%9 stand for the
// match and its groups (%% for %), or a function given the captures (or the match) that
// returns the replacement (nil or false keeps the match).
int ReGsub(lua_State* L) {
  std::string_view s;
  const RE2* re = RegexArgs(L, s);
  const int repl_type = lua_type(L, 3);
  luaL_argexpected(L, repl_type == LUA_TSTRING || repl_type == LUA_TFUNCTION, 3, "string or function");
  const int groups = re->NumberOfCapturingGroups();
  re2::StringPiece found[kMaxRegexGroups + 1];
  const re2::StringPiece text(s.data(), s.size());
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t pos = 0;
  lua_Integer count = 0;
  while (pos <= s.size() && re->Match(text, pos, s.size(), RE2::UNANCHORED, found, groups + 1)) {
    const size_t start = static_cast<size_t>(found[0].data() - s.data());
    const size_t end = start + found[0].size();
    luaL_addlstring(&b, s.data() + pos, start - pos);
    ++count;
    if (repl_type == LUA_TSTRING) {
      size_t rn = 0;
      const char* r = lua_tolstring(L, 3, &rn);
      for (size_t i = 0; i < rn; ++i) {
        if (r[i] != '%' || i + 1 == rn) {
          luaL_addchar(&b, r[i]);
          continue;
        }
        const char c = r[++i];
        if (c >= '0' && c <= '9' && c - '0' <= groups) {
          const re2::StringPiece& g = found[c - '0'];
          if (g.data() != nullptr) luaL_addlstring(&b, g.data(), g.size());
        } else {
          luaL_addchar(&b, c);
        }
      }
    } else {
      lua_pushvalue(L, 3);
      const int args = groups == 0 ? 1 : groups;
      luaL_checkstack(L, args, "too many captures");
      if (groups == 0) {
        PushGroup(L, found[0]);
      } else {
        for (int i = 1; i <= groups; ++i) PushGroup(L, found[i]);
      }
      lua_call(L, args, 1);
      if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(&b, found[0].data(), found[0].size());
      } else if (lua_isstring(L, -1)) {
        luaL_addvalue(&b);
      } else {
        return luaL_error(L, "re.gsub: the replacement function returned a %s", luaL_typename(L, -1));
      }
    }
    if (end == start) {  // an empty match: keep the next character and move past it
      if (start < s.size()) luaL_addchar(&b, s[start]);
      pos = start + 1;
    } else {
      pos = end;
    }
    Charge(L, static_cast<double>(end - start) + 16);
  }
  if (pos < s.size()) luaL_addlstring(&b, s.data() + pos, s.size() - pos);
  luaL_pushresult(&b);
  lua_pushinteger(L, count);
  return 2;
}

// Builds the sandbox's globals. Runs in protected mode.
int OpenSandbox(lua_State* L) {
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  lua_settop(L, 0);
  lua_pushglobaltable(L);
  for (const char* name : {"dofile", "loadfile", "load", "loadstring", "require", "collectgarbage", "print", "xpcall",
                           "warn", "module", "package", "io", "os", "debug", "coroutine"}) {
    lua_pushnil(L);
    lua_setfield(L, 1, name);
  }
  lua_pushcfunction(L, SandboxPcall);
  lua_setfield(L, 1, "pcall");
  lua_pushcfunction(L, SandboxSetmetatable);
  lua_setfield(L, 1, "setmetatable");
  lua_getfield(L, 1, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");  // the string metatable's __index is this same table
  for (const auto& [name, plain_arg] : {std::pair<const char*, int>{"find", 4}, {"match", 0}, {"gmatch", 0}, {"gsub", 0}}) {
    lua_getfield(L, -1, name);
    lua_pushinteger(L, plain_arg);
    lua_pushcclosure(L, GuardedStringSearch, 2);
    lua_setfield(L, -2, name);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, ReFind);
  lua_setfield(L, -2, "find");
  lua_pushcfunction(L, ReMatch);
  lua_setfield(L, -2, "match");
  lua_pushcfunction(L, ReGsub);
  lua_setfield(L, -2, "gsub");
  lua_setfield(L, 1, "re");
  lua_getfield(L, 1, LUA_MATHLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
  // json helper, and the registry entries it and the conversions use.
  lua_newtable(L);
  lua_pushstring(L, "array");
  lua_setfield(L, -2, "__jsontype");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");  // scripts cannot swap it
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kArrayMetaKey);
  lua_newtable(L);
  lua_newtable(L);
  lua_pushstring(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kOrderKey);
  lua_newtable(L);
  lua_pushcfunction(L, JsonEncode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, JsonDecode);
  lua_setfield(L, -2, "decode");
  lua_pushcfunction(L, JsonArray);
  lua_setfield(L, -2, "array");
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
  lua_setfield(L, 1, "json");
  return 0;
}

std::string ErrorText(lua_State* L, const Sandbox& s, int status) {
  if (s.aborted) return s.abort_reason;
  if (status == LUA_ERRMEM) {
    return "transform exceeded its memory limit (" + std::to_string(s.limits.memory_bytes >> 10) + " KiB)";
  }
  if (lua_type(L, -1) == LUA_TSTRING) return std::string(LuaString(L, -1));
  return std::string("transform raised an error that is not a string (") + luaL_typename(L, -1) + ")";
}

// Runs `fn` (a C function taking `arg`) in protected mode under the run caps.
Status RunCapped(Sandbox& s, lua_CFunction fn, void* arg, int results) {
  s.limit = s.used + s.limits.memory_bytes;
  s.executed = 0;
  s.budget = s.limits.instructions;
  s.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.limits.wall_ms);
  s.aborted = false;
  s.abort_reason.clear();
  lua_pushcfunction(s.L, fn);
  lua_pushlightuserdata(s.L, arg);
  const int status = lua_pcall(s.L, 1, results, 0);
  s.limit = SIZE_MAX;
  s.budget = INT64_MAX;
  s.deadline = std::chrono::steady_clock::time_point::max();
  if (status != LUA_OK) {
    std::string message = ErrorText(s.L, s, status);
    lua_pop(s.L, 1);
    s.aborted = false;
    return InvalidArgument(std::move(message));
  }
  s.aborted = false;
  return Status::Ok();
}

struct LoadArg {
  std::string_view chunk;
  const char* mode;
};

// Loads the chunk, runs its top level, and leaves `transform` on the stack.
int LoadProgram(lua_State* L) {
  auto* arg = static_cast<LoadArg*>(lua_touserdata(L, 1));
  if (luaL_loadbufferx(L, arg->chunk.data(), arg->chunk.size(), "=transform", arg->mode) != LUA_OK) {
    return lua_error(L);
  }
  lua_call(L, 0, 0);
  if (lua_getglobal(L, "transform") != LUA_TFUNCTION) {
    return luaL_error(L, "the script must define function transform(webhook)");
  }
  return 1;
}

Result<std::unique_ptr<Sandbox>> NewSandbox(std::string_view chunk, const char* mode, const LuaLimits& limits) {
  auto s = std::make_unique<Sandbox>();
  s->limits = limits;
  s->L = lua_newstate(Allocate, s.get());
  if (s->L == nullptr) return Internal("cannot create a Lua state");
  *static_cast<Sandbox**>(lua_getextraspace(s->L)) = s.get();
  lua_sethook(s->L, CountHook, LUA_MASKCOUNT, kHookEvery);
  ULAK_RETURN_IF_ERROR(RunCapped(*s, OpenSandbox, nullptr, 0));
  LoadArg arg{chunk, mode};
  ULAK_RETURN_IF_ERROR(RunCapped(*s, LoadProgram, &arg, 1));
  s->transform_ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
  return s;
}

int DumpWriter(lua_State*, const void* p, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
  return 0;
}

struct CallArg {
  Sandbox* sandbox;
  const ShapedRequest* in;
};

// Calls transform(webhook) and leaves its result on the stack.
int CallTransform(lua_State* L) {
  auto* arg = static_cast<CallArg*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, arg->sandbox->transform_ref);
  lua_createtable(L, 0, 4);
  lua_pushlstring(L, arg->in->method.data(), arg->in->method.size());
  lua_setfield(L, -2, "method");
  lua_pushlstring(L, arg->in->url.data(), arg->in->url.size());
  lua_setfield(L, -2, "url");
  lua_createtable(L, 0, static_cast<int>(arg->in->headers.size()));
  for (const auto& [name, value] : arg->in->headers) {
    lua_pushlstring(L, name.data(), name.size());
    lua_pushlstring(L, value.data(), value.size());
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "headers");
  PushJson(L, arg->in->payload, 0);
  lua_setfield(L, -2, "payload");
  lua_call(L, 1, 1);
  return 1;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool Reserved(std::string_view name) {
  static constexpr std::string_view kReserved[] = {"x-webhook-signature", "webhook-id", "webhook-timestamp",
                                                   "webhook-signature", "content-length", "transfer-encoding",
                                                   "host", "connection", "expect"};
  for (std::string_view r : kReserved) {
    if (r.size() == name.size() &&
        std::equal(r.begin(), r.end(), name.begin(), [](char a, char b) { return a == std::tolower(b); })) {
      return true;
    }
  }
  return false;
}

// t[name] without metamethods (nothing of the script runs outside a capped run).
void RawField(lua_State* L, int t, const char* name) {
  lua_pushstring(L, name);
  lua_rawget(L, t);
}

// Reads the returned webhook table (at the top of the stack) into a request.
Result<ShapedRequest> ReadResult(lua_State* L) {
  const int t = lua_gettop(L);
  if (!lua_istable(L, t)) {
    return InvalidArgument(std::string("transform must return the webhook table or nil, not a ") + luaL_typename(L, t));
  }
  ShapedRequest out;
  RawField(L, t, "method");  // no metamethods: the conversions below stay raw
  if (lua_type(L, -1) != LUA_TSTRING || LuaString(L, -1).size() > 16 || !IsToken(LuaString(L, -1))) {
    lua_pop(L, 1);
    return InvalidArgument("transform returned an invalid method (a token such as \"POST\" or \"PUT\" is expected)");
  }
  out.method = std::string(LuaString(L, -1));
  lua_pop(L, 1);
  RawField(L, t, "url");
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    return InvalidArgument("transform returned no url (a string is expected)");
  }
  out.url = std::string(LuaString(L, -1));
  lua_pop(L, 1);
  if (out.url.size() > 2048 || !(out.url.starts_with("http://") || out.url.starts_with("https://")) ||
      std::any_of(out.url.begin(), out.url.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return InvalidArgument("transform returned an invalid url (an absolute http(s) URL of at most 2048 characters)");
  }
  RawField(L, t, "headers");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      return InvalidArgument("transform returned headers that are not a table of names to values");
    }
    const int h = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, h) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 3);
        return InvalidArgument("transform returned a header whose name or value is not a string");
      }
      const std::string_view name = LuaString(L, -2);
      const std::string_view value = LuaString(L, -1);
      if (name.size() > 256 || !IsToken(name)) {
        lua_pop(L, 3);
        return InvalidArgument("transform returned an invalid header name: " + std::string(name.substr(0, 64)));
      }
      if (Reserved(name)) {
        const std::string n(name);
        lua_pop(L, 3);
        return InvalidArgument("transform cannot set the header " + n + ": ulak sets it itself");
      }
      if (value.size() > 8192 || value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        const std::string n(name);
        lua_pop(L, 3);
        return InvalidArgument("transform returned a value for " + n + " with CR, LF or NUL, or longer than 8192 bytes");
      }
      out.headers.emplace_back(name, value);
      lua_pop(L, 1);
      if (out.headers.size() > 50) {
        lua_pop(L, 2);
        return InvalidArgument("transform returned more than 50 headers");
      }
    }
    // Deterministic order whatever the table's.
    std::sort(out.headers.begin(), out.headers.end());
  }
  lua_pop(L, 1);
  RawField(L, t, "payload");
  Status s = ToJson(L, -1, 0, "payload", out.payload);
  lua_pop(L, 1);
  ULAK_RETURN_IF_ERROR(s);
  return out;
}

// This thread's states, one per program. Bounded: past kMaxStates all are dropped (they are
// rebuilt from bytecode on next use).
constexpr size_t kMaxStates = 64;
thread_local std::unordered_map<uint64_t, std::unique_ptr<Sandbox>> t_states;

}  // namespace

Result<std::shared_ptr<const LuaProgram>> LuaProgram::Compile(std::string_view source, LuaLimits limits,
                                                              std::string_view field) {
  const std::string place(field);
  if (source.empty()) return InvalidArgument(place + " must define function transform(webhook).").WithField(place);
  if (source.size() > 64 * 1024) return InvalidArgument(place + " may be at most 64 KiB.").WithField(place);
  // The same script (configurations are parsed again by the publisher's cache, the engine,
  // the API) is one program: compiled once, and one state per thread rather than one per
  // parse.
  static std::mutex mu;
  static std::unordered_map<std::string, std::weak_ptr<const LuaProgram>> programs;  // GUARDED_BY(mu)
  const std::string key = std::to_string(limits.memory_bytes) + "/" + std::to_string(limits.instructions) + "/" +
                          std::string(source);
  {
    std::lock_guard lock(mu);
    auto it = programs.find(key);
    if (it != programs.end()) {
      if (std::shared_ptr<const LuaProgram> known = it->second.lock()) return known;
    }
  }
  Result<std::unique_ptr<Sandbox>> sandbox = NewSandbox(source, "t", limits);
  if (!sandbox.ok()) return InvalidArgument(place + ": " + sandbox.status().message()).WithField(place);
  // Our own compilation to bytecode, which each thread's state then loads without parsing.
  lua_State* L = (*sandbox)->L;
  auto program = std::make_shared<LuaProgram>();
  if (luaL_loadbufferx(L, source.data(), source.size(), "=transform", "t") != LUA_OK ||
      lua_dump(L, DumpWriter, &program->bytecode_, 0) != 0) {
    return Internal("cannot compile a checked transformation");
  }
  lua_pop(L, 1);
  program->limits_ = limits;
  program->id_ = next_program_id.fetch_add(1);
  std::shared_ptr<const LuaProgram> shared = std::move(program);
  std::lock_guard lock(mu);
  if (programs.size() >= 1024) std::erase_if(programs, [](const auto& entry) { return entry.second.expired(); });
  programs[key] = shared;
  return shared;
}

Result<std::optional<ShapedRequest>> RunTransform(const LuaProgram& program, const ShapedRequest& in) {
  auto it = t_states.find(program.id());
  if (it == t_states.end()) {
    if (t_states.size() >= kMaxStates) t_states.clear();
    ULAK_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> fresh, NewSandbox(program.bytecode(), "b", program.limits()));
    it = t_states.emplace(program.id(), std::move(fresh)).first;
  }
  Sandbox& s = *it->second;
  CallArg arg{&s, &in};
  Status status = RunCapped(s, CallTransform, &arg, 1);
  Result<std::optional<ShapedRequest>> out = std::optional<ShapedRequest>();
  if (!status.ok()) {
    out = status;
  } else {
    if (!lua_isnil(s.L, -1)) {
      Result<ShapedRequest> read = ReadResult(s.L);
      if (read.ok()) {
        out = std::optional<ShapedRequest>(std::move(read).value());
      } else {
        out = read.status();
      }
    }
    lua_settop(s.L, 0);
  }
  // A script that keeps what it is given in globals would grow its state without end.
  if (s.used > 2 * s.limits.memory_bytes) {
    lua_gc(s.L, LUA_GCCOLLECT);
    if (s.used > 2 * s.limits.memory_bytes) t_states.erase(it);
  }
  return out;
}

}  // namespace ulak::shape
