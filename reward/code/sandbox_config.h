// Limits and paths for running untrusted Python programs inside bubblewrap (reward/code/).
//
// Every limit applies to one program run (one HumanEval/assert program, or one stdin/stdout case):
// the wall clock counts from the moment the program starts loading, the rlimits are set in the
// program's process before any of its code runs and are inherited by everything it starts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge::reward::code {

struct SandboxConfig {
  std::string bwrap_path = "/usr/bin/bwrap";
  // Debian's interpreter, run as `python3 -I -S` (never the pyenv shim on PATH).
  std::string python_path = "/usr/bin/python3";
  // Host directories bound read-only into the sandbox besides /usr and /etc (e.g. another
  // interpreter's prefix).
  std::vector<std::string> extra_ro_binds;
  // Host uid/gid the sandboxes run as when this process is root. Running a sandbox as host root
  // would make RLIMIT_NPROC a no-op (the kernel exempts root) and let the program read root-owned
  // files; when not root, the sandbox runs as the caller's own uid.
  int sandbox_uid = 65534;
  int sandbox_gid = 65534;

  double wall_seconds = 8.0;             // wall clock per program run
  double cpu_seconds = 5.0;              // RLIMIT_CPU
  int64_t memory_bytes = 512ll << 20;    // RLIMIT_AS
  int max_processes = 64;                // RLIMIT_NPROC, counted per run (see sandbox_worker.h)
  int64_t max_file_bytes = 16ll << 20;   // RLIMIT_FSIZE
  int64_t tmp_bytes = 64ll << 20;        // size of the run's private tmpfs /tmp (and /dev/shm)
  int max_open_files = 64;               // RLIMIT_NOFILE
  int64_t max_output_bytes = 1ll << 20;  // stdout and stderr each; more fails the run

  // InvalidArgument naming the first field out of range.
  absl::Status validate() const;
};

}  // namespace forge::reward::code
