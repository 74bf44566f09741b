// GET /api/openapi.json serves docs/openapi.json byte for byte, without a key, and a real
// OpenAPI 3.1 validator (@seriousme/openapi-schema-validator, pinned by
// tests/openapi/package-lock.json) accepts what is served. The router-vs-document check is
// the unit test OpenApi.EveryRouteIsDocumentedAndEveryDocumentedOperationIsRouted.
#include <fstream>
#include <sstream>

#include "e2e/server_fixture.h"
#include "support/command.h"

#ifndef ULAK_SOURCE_DIR
#error "tests/CMakeLists.txt defines ULAK_SOURCE_DIR for the e2e tests"
#endif
#ifndef ULAK_TEST_NODE_PREFIX
#error "tests/CMakeLists.txt defines ULAK_TEST_NODE_PREFIX for the e2e tests"
#endif

namespace ulak::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using OpenApiE2E = ServerFixture;

TEST_F(OpenApiE2E, ServedDocumentIsTheRepositoryFileAndAValidOpenApi31Document) {
  HttpResult r = Call("GET", "/api/openapi.json", "");  // no key: documentation is public
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.body, ReadFile(std::string(ULAK_SOURCE_DIR) + "/docs/openapi.json"))
      << "the binary serves another document than docs/openapi.json: re-run cmake";

  CommandResult install = RunCommand({"bash", std::string(ULAK_SOURCE_DIR) + "/scripts/install-test-node-deps.sh",
                                      ULAK_TEST_NODE_PREFIX},
                                     {}, dir_.path(), 300s);
  ASSERT_EQ(install.exit_code, 0) << "installing the OpenAPI validator failed:\n" << install.output;
  const std::string served = dir_.path() + "/openapi.json";
  std::ofstream(served, std::ios::binary) << r.body;
  CommandResult valid = RunCommand({"node", std::string(ULAK_SOURCE_DIR) + "/tests/openapi/validate.mjs",
                                    ULAK_TEST_NODE_PREFIX, served},
                                   {}, dir_.path());
  EXPECT_EQ(valid.exit_code, 0) << valid.output;

  // The validator does reject a broken document (the test would prove nothing otherwise).
  const std::string broken = dir_.path() + "/broken.json";
  std::string text = r.body;
  text.replace(text.find("\"3.1.0\""), 7, "\"3.1.0\", \"paths\": 7");
  std::ofstream(broken, std::ios::binary) << text;
  CommandResult invalid = RunCommand({"node", std::string(ULAK_SOURCE_DIR) + "/tests/openapi/validate.mjs",
                                      ULAK_TEST_NODE_PREFIX, broken},
                                     {}, dir_.path());
  EXPECT_EQ(invalid.exit_code, 1) << invalid.output;
}

}  // namespace
}  // namespace ulak::testing
