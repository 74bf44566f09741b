// The OpenAPI document (docs/openapi.json, embedded) against the router: every route the
// server has is documented, and every documented operation is routed. On failure the test
// lists exactly what to add to or remove from the document's "paths".
#include "api/openapi.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>
#include <sstream>

#include "api/auth.h"
#include "common/clock.h"
#include "common/random.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ulak::api {
namespace {

using Operation = std::pair<std::string, std::string>;  // {"GET", "/api/webhooks/{id}"}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// OpenAPI path templates name parameters freely; compare shapes only ("{}").
std::string Shape(std::string_view path) {
  std::string out;
  bool in_param = false;
  for (char c : path) {
    if (c == '{') {
      in_param = true;
      out += "{}";
    } else if (c == '}') {
      in_param = false;
    } else if (!in_param) {
      out += c;
    }
  }
  return out;
}

std::set<Operation> RoutedOperations() {
  ulak::testing::TempDir dir;
  auto store = store::sqlite::SqliteStore::Open(dir.path() + "/ulak.db");
  EXPECT_TRUE(store.ok()) << store.status().message();
  ManualClock clock{TimePoint(std::chrono::seconds(1'750'000'000))};
  SeededRandomForTest random(1);
  Authenticator auth(**store, "");
  // Only what building the router needs; the rest keep their defaults, whatever members
  // ApiContext gains later (GCC 12 warns about the omitted ones even when designated).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  ApiContext ctx{.store = **store, .clock = clock, .random = random, .auth = auth};
#pragma GCC diagnostic pop
  std::set<Operation> out;
  for (const http::Router::RouteInfo& r : BuildRouter(ctx).Routes()) {
    out.emplace(std::string(http::MethodName(r.method)), Shape(r.pattern));
  }
  return out;
}

boost::json::value Document() {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(OpenApiDocument(), ec);
  EXPECT_FALSE(ec) << "docs/openapi.json is not JSON: " << ec.message();
  return doc;
}

std::set<Operation> DocumentedOperations(const boost::json::value& doc) {
  static const std::set<std::string> kMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
  std::set<Operation> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (kMethods.count(std::string(method)) != 0) out.emplace(Upper(method), Shape(path));
    }
  }
  return out;
}

std::string List(const std::vector<Operation>& ops) {
  std::ostringstream s;
  for (const auto& [method, path] : ops) s << "\n    " << method << " " << path;
  return s.str();
}

TEST(OpenApi, DocumentIsOpenApi31WithTheErrorShape) {
  boost::json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("openapi"), boost::json::value("3.1.0"));
  EXPECT_EQ(doc.at("info").at("version"), boost::json::value(ULAK_VERSION))
      << "docs/openapi.json's info.version must be the project's version (CMakeLists.txt)";
  const auto& error = doc.at("components").at("schemas").at("Error");
  EXPECT_EQ(error.at("required"), boost::json::value(boost::json::array{"error"}));
  EXPECT_TRUE(error.at("properties").at("error").at("properties").as_object().contains("code"));
}

TEST(OpenApi, EveryRouteIsDocumentedAndEveryDocumentedOperationIsRouted) {
  const std::set<Operation> routed = RoutedOperations();
  const boost::json::value doc = Document();
  ASSERT_TRUE(doc.is_object() && doc.as_object().contains("paths"));
  const std::set<Operation> documented = DocumentedOperations(doc);
  ASSERT_FALSE(routed.empty());

  std::vector<Operation> missing, stale;
  std::set_difference(routed.begin(), routed.end(), documented.begin(), documented.end(), std::back_inserter(missing));
  std::set_difference(documented.begin(), documented.end(), routed.begin(), routed.end(), std::back_inserter(stale));
  EXPECT_TRUE(missing.empty()) << "routes the server has but docs/openapi.json does not document (add them under "
                               << "\"paths\"; parameters are shown as {}):" << List(missing);
  EXPECT_TRUE(stale.empty()) << "operations docs/openapi.json documents but no route serves (remove them, or add "
                             << "the route):" << List(stale);
}

TEST(OpenApi, EveryOperationHasAnIdAnswersAndTheErrorShapeForItsErrors) {
  const boost::json::value doc = Document();
  std::set<std::string> ids;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      const std::string where = Upper(method) + " " + std::string(path);
      const auto& o = operation.as_object();
      ASSERT_TRUE(o.contains("operationId")) << where;
      EXPECT_TRUE(ids.insert(std::string(o.at("operationId").as_string())).second) << "duplicate id at " << where;
      ASSERT_TRUE(o.contains("responses")) << where;
      for (const auto& [status, answer] : o.at("responses").as_object()) {
        if (status.size() == 3 && (status[0] == '4' || status[0] == '5')) {
          // Either a shared error answer or an inline one with the Error schema.
          const bool shared = answer.as_object().contains("$ref");
          const bool inline_error =
              !shared && answer.at("content").at("application/json").at("schema").at("$ref") ==
                             boost::json::value("#/components/schemas/Error");
          EXPECT_TRUE(shared || inline_error) << where << " " << status;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ulak::api
