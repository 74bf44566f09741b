#include "shape/lua_transform.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <thread>

#include "shape/json_number.h"

namespace ulak::shape {
namespace {

ShapedRequest Sample() {
  ShapedRequest in;
  in.url = "https://receiver.example/hook";
  in.headers = {{"X-Api-Key", "k"}};
  in.payload = boost::json::parse(
      R"({"event":"order.created","data":{"order_number":"ORD-1","total_amount":179.8,"items":[{"name":"Pizza"}],)"
      R"("empty":[],"none":null,"obj":{}},"metadata":{}})");
  return in;
}

Result<std::optional<ShapedRequest>> RunScript(std::string_view source, const ShapedRequest& in = Sample(),
                                         LuaLimits limits = {}) {
  ULAK_ASSIGN_OR_RETURN(std::shared_ptr<const LuaProgram> program, LuaProgram::Compile(source, limits));
  return RunTransform(*program, in);
}

TEST(LuaTransform, AGoodScriptChangesMethodUrlHeadersAndPayload) {
  Result<std::optional<ShapedRequest>> out = RunScript(R"(
    function transform(webhook)
      webhook.method = "PUT"
      webhook.url = webhook.url .. "?order=" .. webhook.payload.data.order_number
      webhook.headers["X-Order"] = webhook.payload.data.order_number
      webhook.payload = {
        text = string.format("New order %s: %.2f TRY", webhook.payload.data.order_number, webhook.payload.data.total_amount),
        items = webhook.payload.data.items, empty = webhook.payload.data.empty,
        none = webhook.payload.data.none, obj = webhook.payload.data.obj, n = #webhook.payload.data.items,
        round = json.decode(json.encode({a = 1}))
      }
      return webhook
    end)");
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_TRUE(out->has_value());
  const ShapedRequest& r = **out;
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "https://receiver.example/hook?order=ORD-1");
  EXPECT_EQ(r.headers, (std::vector<std::pair<std::string, std::string>>{{"X-Api-Key", "k"}, {"X-Order", "ORD-1"}}));
  EXPECT_EQ(SerializeJson(r.payload),
            R"({"empty":[],"items":[{"name":"Pizza"}],"n":1,"none":null,"obj":{},"round":{"a":1},)"
            R"("text":"New order ORD-1: 179.80 TRY"})");
}

TEST(LuaTransform, SearchesArePlainTextOrRe2) {
  Result<std::optional<ShapedRequest>> out = RunScript(R"lua(
    function transform(w)
      local s = "order ORD-2025-001 for ahmet@example.com"
      local a, b = re.find(s, "ORD-[0-9]+-([0-9]+)")
      local year, n = re.match(s, "ORD-([0-9]{4})-([0-9]+)")
      local masked, count = re.gsub(s, "([a-z]+)@([a-z.]+)", "%1 at %2")
      local upper = re.gsub(s, "[a-z]+@", function(m) return m:upper() end)
      w.payload = {a = a, b = b, year = year, n = n, masked = masked, count = count, upper = upper,
                   plain = string.find(s, "ORD-", 1, true), literal = (s:gsub("ahmet", "x")),
                   none = re.match(s, "^nothing") == nil}
      return w
    end)lua");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(SerializeJson((**out).payload),
            R"({"a":7,"b":18,"count":1,"literal":"order ORD-2025-001 for x@example.com",)"
            R"("masked":"order ORD-2025-001 for ahmet at example.com","n":"001","none":true,"plain":7,)"
            R"("upper":"order ORD-2025-001 for AHMET@example.com","year":"2025"})");
  for (const char* source : {"function transform(w) return ('aaaa'):find('a-b') end",
                             "function transform(w) return ('aaaa'):match('(a*)*b') end",
                             "function transform(w) return ('a'):gsub('.', 'b') end",
                             "function transform(w) for x in ('ab'):gmatch('%a') do end end"}) {
    Result<std::optional<ShapedRequest>> refused = RunScript(source);
    ASSERT_FALSE(refused.ok()) << source;
    EXPECT_NE(refused.status().message().find("Lua patterns are not available"), std::string::npos)
        << refused.status().message();
  }
  Result<std::optional<ShapedRequest>> bad = RunScript("function transform(w) return re.find('x', '(') end");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("invalid regular expression"), std::string::npos) << bad.status().message();
  // C work counts against the budget: a loop of big searches stops like a loop of small ones.
  Result<std::optional<ShapedRequest>> heavy = RunScript(
      "function transform(w)\n  local s = string.rep('a', 4000000)\n  while true do re.find(s, 'b') end\nend");
  ASSERT_FALSE(heavy.ok());
  EXPECT_NE(heavy.status().message().find("instruction limit"), std::string::npos) << heavy.status().message();
}

TEST(LuaTransform, KeepsMemberOrderAndNumbers) {
  Result<std::optional<ShapedRequest>> out = RunScript("function transform(w) w.payload.data.added = 1 return w end");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(SerializeJson((**out).payload),
            R"({"event":"order.created","data":{"order_number":"ORD-1","total_amount":179.8,"items":[{"name":"Pizza"}],)"
            R"("empty":[],"none":null,"obj":{},"added":1},"metadata":{}})");
}

TEST(LuaTransform, ReturningNilSkips) {
  Result<std::optional<ShapedRequest>> out =
      RunScript("function transform(w) if w.payload.data.total_amount < 1000 then return nil end return w end");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE(out->has_value());
}

struct Failure {
  const char* name;
  const char* source;
  const char* reason;  // part of the error message
};

TEST(LuaTransform, EveryEscapeAndRunawayFailsCleanlyWithItsReason) {
  const Failure cases[] = {
      {"infinite loop", "function transform(w)\n  while true do end\nend", "transform:2: stopped after"},
      {"loop that catches its errors", "function transform(w)\n while true do pcall(function() while true do end end) end\nend",
       "instruction limit"},
      {"unbounded allocation", "function transform(w)\n local t = {}\n for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end\nend",
       "memory limit"},
      {"one huge string", "function transform(w) return string.rep('x', 64 * 1024 * 1024) end", "memory limit"},
      {"os.execute", "function transform(w)\n  os.execute('touch /tmp/pwned')\n  return w\nend",
       "transform:2: attempt to index a nil value (global 'os')"},
      {"io.open", "function transform(w)\n  io.open('/etc/passwd')\nend", "transform:2: attempt to index a nil value (global 'io')"},
      {"require", "function transform(w)\n  require('os')\nend", "transform:2: attempt to call a nil value (global 'require')"},
      {"load of bytecode", "function transform(w)\n  local f = load(string.dump(function() end))\nend",
       "transform:2: attempt to call a nil value (field 'dump')"},
      {"load of text", "function transform(w)\n  return load('return 1')()\nend", "attempt to call a nil value (global 'load')"},
      {"debug.sethook", "function transform(w)\n  debug.sethook()\nend", "transform:2: attempt to index a nil value (global 'debug')"},
      {"collectgarbage", "function transform(w) collectgarbage('stop') end", "global 'collectgarbage'"},
      {"dofile", "function transform(w) dofile('/etc/passwd') end", "global 'dofile'"},
      {"finalizer", "function transform(w) setmetatable({}, {__gc = function() while true do end end}) end",
       "__gc metamethods are not available"},
      {"runtime error", "function transform(w)\n  local x = nil\n  return x.field\nend",
       "transform:3: attempt to index a nil value (local 'x')"},
      {"error()", "function transform(w)\n  error('no thanks')\nend", "transform:2: no thanks"},
      {"returns a string", "function transform(w) return 'hello' end", "must return the webhook table or nil"},
      {"bad url", "function transform(w) w.url = 'file:///etc/passwd' return w end", "invalid url"},
      {"signature header", "function transform(w) w.headers['webhook-signature'] = 'v1,x' return w end",
       "cannot set the header webhook-signature"},
      {"header injection", "function transform(w) w.headers['X-A'] = 'a\\r\\nX-B: b' return w end", "CR, LF or NUL"},
      {"a function in the payload", "function transform(w) w.payload.f = print or transform return w end",
       "transform returned a function at payload.f"},
      {"a cycle", "function transform(w) w.payload.self = w.payload return w end", "nested more than 64 levels"},
      {"not finite", "function transform(w) w.payload.x = 1/0 return w end", "not finite at payload.x"},
      {"not UTF-8", "function transform(w) w.payload.x = '\\xff' return w end", "not UTF-8 at payload.x"},
  };
  // The caps asserted here are instructions and memory; the wall-clock safety net is pushed
  // out of the way so a slow (sanitized, loaded) machine cannot trip it first.
  LuaLimits limits;
  limits.wall_ms = 600'000;
  for (const Failure& c : cases) {
    Result<std::optional<ShapedRequest>> out = RunScript(c.source, Sample(), limits);
    ASSERT_FALSE(out.ok()) << c.name;
    EXPECT_NE(out.status().message().find(c.reason), std::string::npos) << c.name << ": " << out.status().message();
    // The same thread's states still work afterwards.
    Result<std::optional<ShapedRequest>> fine = RunScript("function transform(w) return w end");
    ASSERT_TRUE(fine.ok()) << c.name << ": " << fine.status().message();
  }
}

TEST(LuaTransform, CompileRefusesBrokenScriptsAndRunawayTopLevels) {
  for (const char* source : {"function transform(w) return w", "x = 1", "while true do end", "\x1bLua",
                             "os.exit(1)"}) {
    Result<std::shared_ptr<const LuaProgram>> program = LuaProgram::Compile(source);
    ASSERT_FALSE(program.ok()) << source;
    EXPECT_EQ(program.status().field(), "transform.lua");
  }
  Result<std::shared_ptr<const LuaProgram>> program = LuaProgram::Compile("function transform(w)\n  return w +\nend");
  ASSERT_FALSE(program.ok());
  EXPECT_NE(program.status().message().find("transform:3:"), std::string::npos) << program.status().message();
}

TEST(LuaTransform, EachThreadHasItsOwnState) {
  Result<std::shared_ptr<const LuaProgram>> program = LuaProgram::Compile(
      "count = 0\nfunction transform(w) count = count + 1; w.payload = {count = count}; return w end");
  ASSERT_TRUE(program.ok());
  auto count = [&] {
    Result<std::optional<ShapedRequest>> out = RunTransform(**program, Sample());
    return out.ok() ? (**out).payload.at("count").as_int64() : -1;
  };
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(count(), 2);
  int64_t other = 0;
  std::thread([&] { other = count(); }).join();
  EXPECT_EQ(other, 1);
  EXPECT_EQ(count(), 3);
}

TEST(LuaTransform, LargeUnsignedIntegersSurviveWithTheirDigits) {
  ShapedRequest in = Sample();
  in.payload = boost::json::parse(R"({"id":18446744073709551615,"n":9007199254740993})");
  NumberDigits digits;
  KeepLargeIntegers(in.payload, digits);
  Result<std::optional<ShapedRequest>> out = RunScript("function transform(w) return w end", in);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(SerializeJson((**out).payload, &digits), R"({"id":18446744073709551615,"n":9007199254740993})");
}

}  // namespace
}  // namespace ulak::shape
