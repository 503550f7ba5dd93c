// One child process of `forge run` (a reward server or rollout worker): started in its own process
// group with stdout/stderr going to a log file, told to die with its parent (PR_SET_PDEATHSIG), and
// stopped with SIGTERM then SIGKILL. Not thread-safe; the Supervisor serialises access.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::rl {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv` (argv[0] is a path), output appended to `log_path`.
  static absl::StatusOr<ChildProcess> start(const std::string& name,
                                            const std::vector<std::string>& argv,
                                            const std::string& log_path);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // stop(2 s) if still running

  // Reaps the child if it has exited (non-blocking). True while it runs.
  bool running();
  // "exited with status 1" / "killed by signal 9"; empty while running.
  const std::string& exit_description() const { return exit_description_; }

  // SIGTERM to the child's process group, wait up to `grace`, then SIGKILL and reap.
  void stop(std::chrono::milliseconds grace);

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }

 private:
  ChildProcess(std::string name, pid_t pid, std::string log_path);
  void record_exit(int status);

  std::string name_;
  pid_t pid_ = -1;  // -1 once reaped
  std::string log_path_;
  std::string exit_description_;
};

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
absl::StatusOr<int> pick_free_port();

// The `forge` executable children are started with: $FORGE_EXECUTABLE (set by the `forge` front
// end before it hands a subcommand to forge-torch), else the running executable (/proc/self/exe).
std::string self_executable();

}  // namespace forge::rl
