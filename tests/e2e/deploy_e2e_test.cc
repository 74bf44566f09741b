// Running ulak as a service (issue 16): deploy/ulak.service passes `systemd-analyze verify`
// (Debian's systemd package, installed by scripts/install-deps.sh), carries the hardening it
// promises, and `ulak serve --check-config` accepts deploy/ulak.yaml and refuses what
// serving would refuse, without creating any file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/command.h"
#include "support/temp_dir.h"

#ifndef ULAK_SOURCE_DIR
#error "tests/CMakeLists.txt defines ULAK_SOURCE_DIR for the e2e tests"
#endif
#ifndef ULAK_BINARY_PATH
#error "tests/CMakeLists.txt defines ULAK_BINARY_PATH for the e2e tests"
#endif

namespace ulak::testing {
namespace {

const std::string kMasterKey = "ULAK_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(ULAK_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

TEST(DeployE2E, SystemdUnitPassesSystemdAnalyzeVerifyAndIsHardened) {
  const std::string unit = ReadSource("deploy/ulak.service");
  ASSERT_FALSE(unit.empty()) << "deploy/ulak.service is missing";
  for (const char* line : {"DynamicUser=yes", "StateDirectory=ulak", "ProtectSystem=strict", "NoNewPrivileges=yes",
                           "CapabilityBoundingSet=\n", "ExecStart=/usr/local/bin/ulak serve --config /etc/ulak/ulak.yaml\n"}) {
    EXPECT_NE(unit.find(std::string("\n") + line), std::string::npos) << "deploy/ulak.service lacks " << line;
  }
  if (!OnPath("systemd-analyze")) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd, which scripts/install-deps.sh "
                    "installs): deploy/ulak.service cannot be verified on this machine";
  }
  // The unit as shipped, with its binary path pointing at the one just built: verify checks
  // that ExecStart's program exists and is executable.
  TempDir dir;
  const std::string copy = dir.path() + "/ulak.service";
  std::ofstream(copy) << std::regex_replace(unit, std::regex("/usr/local/bin/ulak"), ULAK_BINARY_PATH);
  CommandResult verify = RunCommand({"systemd-analyze", "verify", copy}, {}, dir.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_EQ(verify.output, "") << "systemd-analyze verify printed warnings";
}

TEST(DeployE2E, CheckConfigAcceptsTheDeployConfigAndRefusesWhatServeWouldRefuse) {
  TempDir dir;
  const std::string config = std::string(ULAK_SOURCE_DIR) + "/deploy/ulak.yaml";
  // deploy/ulak.yaml is production mode: the master key must come from the environment.
  CommandResult ok = RunCommand({ULAK_BINARY_PATH, "serve", "--config", config, "--check-config"}, {kMasterKey},
                                dir.path());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("configuration OK"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("production"), std::string::npos) << ok.output;

  CommandResult no_key = RunCommand({ULAK_BINARY_PATH, "serve", "--config", config, "--check-config"},
                                    {"ULAK_MASTER_KEY="}, dir.path());
  EXPECT_EQ(no_key.exit_code, 2) << no_key.output;
  EXPECT_NE(no_key.output.find("ULAK_MASTER_KEY"), std::string::npos) << no_key.output;

  const std::string bad = dir.path() + "/bad.yaml";
  std::ofstream(bad) << "listen: nowhere\n";
  CommandResult bad_listen = RunCommand({ULAK_BINARY_PATH, "serve", "--config", bad, "--check-config"}, {}, dir.path());
  EXPECT_EQ(bad_listen.exit_code, 2) << bad_listen.output;
  CommandResult bad_flag = RunCommand(
      {ULAK_BINARY_PATH, "serve", "--threads", "many", "--database", "sqlite:" + dir.path() + "/d/ulak.db", "--check-config"},
      {}, dir.path());
  EXPECT_EQ(bad_flag.exit_code, 2) << bad_flag.output;
  CommandResult bad_networks = RunCommand({ULAK_BINARY_PATH, "serve", "--check-config", "--database", "sqlite:x.db"},
                                          {"ULAK_ALLOWED_NETWORKS=10.0.0.0/99"}, dir.path());
  EXPECT_EQ(bad_networks.exit_code, 2) << bad_networks.output;
  CommandResult short_admin = RunCommand({ULAK_BINARY_PATH, "serve", "--check-config", "--database", "sqlite:x.db"},
                                         {"ULAK_ADMIN_KEY=short"},
                                         dir.path());
  EXPECT_EQ(short_admin.exit_code, 2) << short_admin.output;

  // Development mode with the defaults: fine, and nothing is created (no database, no key file).
  CommandResult dev = RunCommand(
      {ULAK_BINARY_PATH, "serve", "--database", "sqlite:" + dir.path() + "/data/ulak.db", "--check-config"},
      {"ULAK_MASTER_KEY="}, dir.path());
  EXPECT_EQ(dev.exit_code, 0) << dev.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/data")) << "--check-config created ./data";
}

}  // namespace
}  // namespace ulak::testing
