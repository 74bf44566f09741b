#include "support/ulak_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ulak::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

const char* UlakBinary() {
  // ULAK_E2E_BINARY runs the end-to-end tests against another build, e.g. one from before a
  // fix, to see its test fail there (docs/RELIABILITY.md).
  if (const char* other = std::getenv("ULAK_E2E_BINARY"); other != nullptr && *other != '\0') return other;
#ifdef ULAK_BINARY_PATH
  return ULAK_BINARY_PATH;
#else
  return "ulak";
#endif
}

UlakProcess::UlakProcess(std::vector<std::string> args, std::vector<std::string> env, const std::string& log_dir) {
  static int counter = 0;
  const std::string stem = log_dir + "/ulak_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  stdout_path_ = stem + ".out";
  stderr_path_ = stem + ".err";

  std::vector<std::string> argv_storage;
  argv_storage.push_back(UlakBinary());
  for (auto& a : args) argv_storage.push_back(std::move(a));
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (auto& e : env) env_storage.push_back(std::move(e));
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("posix_spawn failed for ") + argv[0]);
}

long UlakProcess::RssKiB() const {
  if (pid_ <= 0 || exit_code_ >= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    // "VmRSS:     123456 kB"
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

UlakProcess::~UlakProcess() {
  if (pid_ > 0 && exit_code_ < 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

int UlakProcess::WaitForPort(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string err = Stderr();
    const size_t at = err.find("\"msg\":\"listening\"");
    if (at != std::string::npos) {
      const size_t port_at = err.find("\"port\":", at);
      if (port_at != std::string::npos) {
        port_ = std::stoi(err.substr(port_at + 7));
        return port_;
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = DecodeStatus(status);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

int UlakProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = DecodeStatus(status);
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

int UlakProcess::StopWith(int sig, std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  kill(pid_, sig);
  return WaitForExit(timeout);
}

std::string UlakProcess::Stdout() const { return ReadFile(stdout_path_); }
std::string UlakProcess::Stderr() const { return ReadFile(stderr_path_); }

std::pair<int, std::string> RunUlak(std::vector<std::string> args, std::vector<std::string> env,
                                    const std::string& log_dir) {
  UlakProcess p(std::move(args), std::move(env), log_dir);
  const int code = p.WaitForExit(std::chrono::seconds(60));
  return {code, p.Stdout() + p.Stderr()};
}

}  // namespace ulak::testing
