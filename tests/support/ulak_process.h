// Runs the real `ulak` binary as a child process for end-to-end tests: captures its stdout
// and stderr into files, finds the port it listens on from its "listening" log line, and
// stops it with a signal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace ulak::testing {

class UlakProcess {
 public:
  // Starts `ulak args...` with the parent's environment plus env (NAME=VALUE entries).
  // Output goes to files under log_dir.
  UlakProcess(std::vector<std::string> args, std::vector<std::string> env, const std::string& log_dir);
  ~UlakProcess();  // SIGKILLs the child if still running
  UlakProcess(const UlakProcess&) = delete;
  UlakProcess& operator=(const UlakProcess&) = delete;

  // Waits until the server logs "listening"; returns its port, or 0 if it exited first or
  // the timeout passed.
  int WaitForPort(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends sig and waits for exit; returns the exit status (or 128+signal if killed).
  int StopWith(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for the process to exit on its own; returns its exit code.
  int WaitForExit(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  std::string Stdout() const;
  std::string Stderr() const;
  std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The resident set size (VmRSS of /proc/<pid>/status) in KiB; -1 once it has exited.
  long RssKiB() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
};

// Runs `ulak args...` to completion; returns {exit code, stdout + stderr}.
std::pair<int, std::string> RunUlak(std::vector<std::string> args, std::vector<std::string> env,
                                    const std::string& log_dir);

const char* UlakBinary();

}  // namespace ulak::testing
