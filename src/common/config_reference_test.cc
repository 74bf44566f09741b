// The settings table (SettingsReference, common/config.cc) against what documents it:
// docs/CONFIGURATION.md (the generated table between its markers, and every flag and
// variable the code reads) and deploy/ulak.yaml (every key, with its default). A setting
// added to the code without its documentation fails here, and so does documentation of a
// setting that is gone; the failure message prints what to write.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "common/config.h"

#ifndef ULAK_SOURCE_DIR
#error "tests/CMakeLists.txt defines ULAK_SOURCE_DIR for the unit tests"
#endif

namespace ulak {
namespace {

constexpr char kBegin[] = "<!-- settings:begin -->";
constexpr char kEnd[] = "<!-- settings:end -->";

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(ULAK_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Code(const char* text) { return text != nullptr && *text ? "`" + std::string(text) + "`" : ""; }

// The row of one setting in docs/CONFIGURATION.md's table.
std::string Row(const SettingInfo& s) {
  std::string default_text = *s.default_text ? Code(s.default_text) : "unset";
  return "| " + Code(s.key) + " | " + Code(s.env) + " | " + Code(s.flag) + " | " + default_text + " | " +
         s.description + " |";
}

std::string Identity(const SettingInfo& s) { return s.key != nullptr ? s.key : s.env; }

std::string ExpectedTable() {
  std::string out = "| key | environment | flag | default | meaning |\n|---|---|---|---|---|\n";
  for (const SettingInfo& s : SettingsReference()) out += Row(s) + "\n";
  return out;
}

TEST(ConfigReference, DocumentedTableMatchesTheSettingsTable) {
  const std::string doc = ReadSource("docs/CONFIGURATION.md");
  const size_t begin = doc.find(kBegin);
  const size_t end = doc.find(kEnd);
  ASSERT_TRUE(begin != std::string::npos && end != std::string::npos && begin < end)
      << "docs/CONFIGURATION.md must hold the settings table between " << kBegin << " and " << kEnd;
  std::string documented = doc.substr(begin + strlen(kBegin), end - begin - strlen(kBegin));
  documented.erase(0, documented.find_first_not_of('\n'));

  // Rows by their first non-empty cell (the key, or the variable of an environment-only row).
  std::map<std::string, std::string> rows;
  std::istringstream lines(documented);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(^\| (?:`([^`]+)`)? \| `?([A-Z_]*)`?)"))) {
      rows[m[1].matched ? m[1].str() : m[2].str()] = line;
    }
  }
  std::vector<std::string> missing, stale, different;
  std::set<std::string> known;
  for (const SettingInfo& s : SettingsReference()) {
    known.insert(Identity(s));
    auto it = rows.find(Identity(s));
    if (it == rows.end()) {
      missing.push_back(Row(s));
    } else if (it->second != Row(s)) {
      different.push_back("  documented: " + it->second + "\n  expected:   " + Row(s));
    }
  }
  for (const auto& [identity, line] : rows) {
    if (known.count(identity) == 0) stale.push_back(line);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += "\n" + s;
    return out;
  };
  EXPECT_TRUE(missing.empty()) << "settings missing from docs/CONFIGURATION.md:" << join(missing);
  EXPECT_TRUE(stale.empty()) << "rows of docs/CONFIGURATION.md naming no setting:" << join(stale);
  EXPECT_TRUE(different.empty()) << "rows that differ from the code:" << join(different);
  EXPECT_EQ(documented, ExpectedTable()) << "the table between the markers should read exactly:\n" << ExpectedTable();
}

// Every ULAK_* variable named in a string of the code, and every flag the CLI declares, is
// documented: a variable read by hand somewhere (not through the table) is not forgotten.
TEST(ConfigReference, EveryVariableAndFlagTheCodeNamesIsDocumented) {
  const std::string doc = ReadSource("docs/CONFIGURATION.md");
  std::set<std::string> named = {"CRON_SECRET"};
  const std::regex string_literal(R"("(?:[^"\\\n]|\\.)*")");
  const std::regex variable(R"(\bULAK_[A-Z0-9_]+\b)");
  const std::regex flag(R"re(^"(--[a-z][a-z0-9-]+)"$)re");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(ULAK_SOURCE_DIR) + "/src")) {
    const std::string path = entry.path().string();
    if (!entry.is_regular_file() || path.ends_with("_test.cc") ||
        !(path.ends_with(".cc") || path.ends_with(".h"))) {
      continue;
    }
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    const std::string text = s.str();
    for (auto it = std::sregex_iterator(text.begin(), text.end(), string_literal); it != std::sregex_iterator(); ++it) {
      const std::string literal = it->str();
      for (auto v = std::sregex_iterator(literal.begin(), literal.end(), variable); v != std::sregex_iterator(); ++v) {
        named.insert(v->str());
      }
      std::smatch m;
      if (path.find("/src/cli/") != std::string::npos && std::regex_match(literal, m, flag) && m[1] != "--help" &&
          m[1] != "--version") {
        named.insert(m[1].str());
      }
    }
  }
  for (const SettingInfo& s : SettingsReference()) {
    if (s.flag != nullptr) named.insert(s.flag);
    if (s.env != nullptr) named.insert(s.env);
  }
  for (const std::string& name : named) {
    EXPECT_NE(doc.find("`" + name + "`"), std::string::npos) << name << " is not documented in docs/CONFIGURATION.md";
  }
}

TEST(ConfigReference, DocumentedDefaultsAreTheDefaults) {
  for (const SettingInfo& s : SettingsReference()) {
    if (s.key == nullptr || *s.default_text == '\0') continue;
    Config c;
    ASSERT_TRUE(ApplySetting(s.key, s.default_text, c).ok()) << s.key;
    EXPECT_TRUE(c == Config{}) << s.key << ": the documented default " << s.default_text << " is not the default";
  }
  EXPECT_FALSE(Config{}.allowed_networks.has_value());  // "unset" in the table
  Config c;
  EXPECT_EQ(ApplySetting("no_such_key", "1", c).code(), ErrorCode::kInvalidArgument);
}

// deploy/ulak.yaml lists every key once: "# key: <default>" when left at its default, or set
// with "key: value" (the service's choices); it loads and validates as it is.
TEST(ConfigReference, DeployExampleConfigListsEveryKeyWithItsDefaultAndLoads) {
  const std::string text = ReadSource("deploy/ulak.yaml");
  ASSERT_FALSE(text.empty()) << "deploy/ulak.yaml is missing";
  std::map<std::string, int> seen;
  std::map<std::string, std::string> commented;
  std::istringstream lines(text);
  const std::regex entry(R"(^(# ?)?([a-z_]+):(?: (.*))?$)");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, entry)) continue;
    ++seen[m[2].str()];
    if (m[1].matched) commented[m[2].str()] = m[3].matched ? m[3].str() : "";
  }
  for (const SettingInfo& s : SettingsReference()) {
    if (s.key == nullptr) continue;
    EXPECT_EQ(seen[s.key], 1) << "deploy/ulak.yaml must list " << s.key << " exactly once (as \"# " << s.key
                              << ": " << s.default_text << "\" to keep the default)";
    if (auto it = commented.find(s.key); it != commented.end()) {
      EXPECT_EQ(it->second, s.default_text) << "deploy/ulak.yaml: the commented " << s.key << " must show its default";
    }
    seen.erase(s.key);
  }
  for (const auto& [key, count] : seen) ADD_FAILURE() << "deploy/ulak.yaml lists " << key << ", which is no setting";

  Config c;
  Status loaded = ApplyConfigFile(std::string(ULAK_SOURCE_DIR) + "/deploy/ulak.yaml", c);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  EXPECT_TRUE(ValidateConfig(c).ok());
}

}  // namespace
}  // namespace ulak
