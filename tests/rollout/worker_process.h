// A real `forge rollout-worker` child process for the tests: started with its stdout on a pipe, its
// port read from the "listening on HOST:PORT" line, killed (SIGKILL) and reaped on destruction
// (tests/common/forge_process.h underneath).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace forge::test_support {
class ForgeProcess;
}

namespace forge::rollout::testing {

class WorkerProcess {
 public:
  // Runs FORGE_BINARY rollout-worker ARGS...; waits up to `timeout` for the listening line. Returns
  // null (with the output so far in *output) if it exited or never said it listens.
  static std::unique_ptr<WorkerProcess> start(const std::vector<std::string>& args,
                                              std::string* output,
                                              std::chrono::seconds timeout = std::chrono::seconds(60));
  ~WorkerProcess();

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const;

  void signal(int sig);
  // Waits for the exit (SIGKILL after 30 s); returns the exit code (128 + signal when killed by one)
  // and appends the rest of stdout/stderr to *output.
  int wait(std::string* output);

 private:
  WorkerProcess();
  std::unique_ptr<test_support::ForgeProcess> process_;
  int port_ = 0;
  size_t reported_ = 0;  // output already handed to the caller
};

// Runs FORGE_BINARY with `args` to completion; returns the exit code and fills *output.
int run_forge(const std::vector<std::string>& args, std::string* output);

}  // namespace forge::rollout::testing
