#include <gtest/gtest.h>

#include <fstream>

#include "common/config.h"
#include "support/temp_dir.h"

namespace ulak {
namespace {

std::string Write(const testing::TempDir& dir, const std::string& text) {
  const std::string path = dir.path() + "/ulak.yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigFile, SetsKnownKeys) {
  testing::TempDir dir;
  Config c;
  ASSERT_TRUE(ApplyConfigFile(Write(dir, "listen: 0.0.0.0:9090\nmax_body_bytes: 2048\nmode: production\n"), c).ok());
  EXPECT_EQ(c.listen, "0.0.0.0:9090");
  EXPECT_EQ(c.max_body_bytes, 2048u);
  EXPECT_EQ(c.mode, Mode::kProduction);
}

TEST(ConfigFile, RejectsUnknownKeysAndBadValues) {
  testing::TempDir dir;
  Config c;
  Status typo = ApplyConfigFile(Write(dir, "lisen: 1.2.3.4:1\n"), c);
  EXPECT_EQ(typo.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(typo.message().find("lisen"), std::string::npos);
  EXPECT_FALSE(ApplyConfigFile(Write(dir, "threads: many\n"), c).ok());
  EXPECT_EQ(ApplyConfigFile(Write(dir, "listen: [unclosed\n"), c).code(), ErrorCode::kMalformed);
  EXPECT_EQ(ApplyConfigFile(dir.path() + "/missing.yaml", c).code(), ErrorCode::kNotFound);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");  // failed loads left it alone
}

}  // namespace
}  // namespace ulak
