// Starting the host-side process of a sandbox (bwrap) with its pipes.
//
// The child drops to `uid`/`gid` when this process is root (never run a sandbox as host root: the
// kernel exempts root from RLIMIT_NPROC, and the program could read root-owned files), gets
// PR_SET_PDEATHSIG=SIGKILL (it dies with the thread that spawned it), default signal handling, an
// environment of PATH only, cwd "/", and no fds but 0 (a unix socket to write commands to), 1 (a
// pipe to read replies from) and 2 (a pipe to read diagnostics from).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::reward::code {

struct SpawnedProcess {
  pid_t pid = -1;
  int command_fd = -1;  // our end of the child's fd 0 (AF_UNIX stream socket), O_CLOEXEC
  int reply_fd = -1;    // read end of the child's fd 1, O_CLOEXEC
  int diag_fd = -1;     // read end of the child's fd 2, O_CLOEXEC
};

// Forks and execs argv[0]. Fails with the errno of the exec (or of the uid switch) if the child
// could not start. The caller owns the fds and must reap the pid (kill_and_reap).
absl::StatusOr<SpawnedProcess> spawn_process(const std::vector<std::string>& argv, int uid,
                                             int gid);

// SIGKILLs pid (if still running) and waits for it.
void kill_and_reap(pid_t pid);

// Pids whose parent is `pid` (a /proc scan).
std::vector<pid_t> children_of(pid_t pid);

// Waits until none of `pids` exists any more (they are not our children: someone else reaps them),
// or `timeout` passes. Returns whether they are all gone.
bool wait_until_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout);

}  // namespace forge::reward::code
