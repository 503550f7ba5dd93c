// Starting the host-side process of a sandbox (bwrap) with its pipes.
//
// The child drops to `uid`/`gid` when this process is root (never run a sandbox as host root: the
// kernel exempts root from RLIMIT_NPROC, and the program could read root-owned files), gets
// PR_SET_PDEATHSIG=SIGKILL (it dies with the thread that spawned it), default signal handling, an
// environment of PATH only, cwd "/", and no fds but 0 (a unix socket to write commands to), 1 (a
// pipe to read replies from), 2 (a pipe to read diagnostics from) and, when asked for, 3 (a pipe
// to read bwrap's --info-fd JSON from).
//
// Reaping. bwrap forks the sandbox's init (pid 1 of the sandbox's pid namespace), which reaps
// everything inside; when bwrap dies first, that init is an orphan. A process that runs sandboxes
// makes itself a child subreaper (become_child_subreaper), so the orphan is re-parented to it, not
// to PID 1 (which, in a container where we are PID 1, would be nobody), and reaps it itself
// (reap_orphan): it never waits for a process it could reap, nor polls /proc.
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
  int info_fd = -1;     // read end of the child's fd 3 (with_info_fd), O_CLOEXEC; else -1
};

// Forks and execs argv[0]. Fails with the errno of the exec (or of the uid switch) if the child
// could not start. The caller owns the fds and must reap the pid (kill_and_reap).
absl::StatusOr<SpawnedProcess> spawn_process(const std::vector<std::string>& argv, int uid, int gid,
                                             bool with_info_fd = false);

// SIGKILLs pid (if still running) and waits for it.
void kill_and_reap(pid_t pid);

// Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): orphaned descendants are
// re-parented to it and it must reap them. Idempotent; false when the kernel refuses.
bool become_child_subreaper();

// When `pid` is a child of this process (an orphan re-parented to us as subreaper), SIGKILLs it
// and reaps it, blocking until it is gone; true then. False, without waiting, when it is not ours
// to reap (someone else's child, or already reaped). Never signals a process that is not our
// child, so a recycled pid is safe.
bool reap_orphan(pid_t pid);

// The "child-pid" of bwrap's --info-fd JSON ({"child-pid": 123, ...}): the host pid of the
// sandbox's init; -1 when `json_text` does not hold one (yet).
pid_t sandbox_init_pid(const std::string& json_text);

}  // namespace forge::reward::code
