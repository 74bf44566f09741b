#include "shape/lua_sandbox.h"

#include <cstdio>
#include <string>
#include <utility>


namespace ulak::shape::lua {
namespace {

// Plain searches (string.find & co. without pattern characters) compare up to
// subject x pattern bytes in C, where no hook runs: that product is bounded.
constexpr double kMaxPlainSearchWork = 2e8;
constexpr size_t kMaxRegexLength = 1000;
constexpr int kMaxRegexGroups = 16;
constexpr size_t kMaxRegexes = 64;  // compiled regexes kept per state

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

}  // namespace

void OpenSearch(lua_State* L, int globals) {
  lua_getfield(L, globals, LUA_STRLIBNAME);
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
  lua_setfield(L, globals, "re");
}

}  // namespace ulak::shape::lua
