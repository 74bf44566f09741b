#include "shape/lua_transform.h"

#include <lua.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "shape/json_number.h"
#include "shape/lua_sandbox.h"

namespace ulak::shape {
namespace {

using lua::LuaString;
using lua::Of;
using lua::OpenJson;
using lua::OpenSearch;
using lua::PushJson;
using lua::Sandbox;
using lua::ToJson;

constexpr int kHookEvery = 100;  // instructions between two looks at the budget and the clock
std::atomic<uint64_t> next_program_id{1};

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
  lua_pop(L, 1);
  OpenSearch(L, 1);
  lua_getfield(L, 1, LUA_MATHLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
  OpenJson(L, 1);
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
