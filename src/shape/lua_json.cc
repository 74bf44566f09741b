#include "shape/lua_sandbox.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <cmath>
#include <cstdlib>
#include <new>
#include <set>
#include <vector>

#include "shape/json_number.h"

namespace ulak::shape::lua {

char kArrayMetaKey;
char kOrderKey;

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

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

void OpenJson(lua_State* L, int globals) {
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
  lua_setfield(L, globals, "json");
}

}  // namespace ulak::shape::lua
