#include "rl/dist/local_launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rl/orchestrator/child_process.h"

namespace forge::rl {
namespace {

struct Rank {
  pid_t pid = -1;
  bool done = false;
  int exit_code = 0;        // 128 + signal when a signal ended it
  std::string how;          // "exited with status 1", "was killed by signal 9"
};

void describe(int status, Rank& rank) {
  rank.done = true;
  if (WIFEXITED(status)) {
    rank.exit_code = WEXITSTATUS(status);
    rank.how = absl::StrCat("exited with status ", rank.exit_code);
  } else {
    rank.exit_code = 128 + WTERMSIG(status);
    rank.how = absl::StrCat("was killed by signal ", WTERMSIG(status));
  }
}

pid_t spawn_rank(const std::string& executable, const std::vector<std::string>& args, int rank,
                 int nproc, int port, const sigset_t& original_mask) {
  std::vector<char*> argv = {const_cast<char*>(executable.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The rank: its own process group (signals reach it through the launcher), dies with it.
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  const std::string r = std::to_string(rank), n = std::to_string(nproc);
  ::setenv("RANK", r.c_str(), 1);
  ::setenv("WORLD_SIZE", n.c_str(), 1);
  ::setenv("LOCAL_RANK", r.c_str(), 1);
  ::setenv("LOCAL_WORLD_SIZE", n.c_str(), 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

}  // namespace

absl::StatusOr<int> launch_local_ranks(int nproc, const std::string& executable,
                                       const std::vector<std::string>& args, Logger* logger) {
  if (nproc < 1) return absl::InvalidArgumentError("--nproc: must be >= 1");
  ASSIGN_OR_RETURN(const int port, pick_free_port());
  // Signals are taken synchronously (sigtimedwait) so no handler races the bookkeeping.
  sigset_t watched, original;
  sigemptyset(&watched);
  for (int sig : {SIGINT, SIGTERM, SIGCHLD}) sigaddset(&watched, sig);
  ::sigprocmask(SIG_BLOCK, &watched, &original);

  std::vector<Rank> ranks(static_cast<size_t>(nproc));
  for (int r = 0; r < nproc; ++r) {
    ranks[r].pid = spawn_rank(executable, args, r, nproc, port, original);
    if (ranks[r].pid < 0) {
      for (int k = 0; k < r; ++k) ::kill(-ranks[k].pid, SIGKILL);
      ::sigprocmask(SIG_SETMASK, &original, nullptr);
      return absl::ResourceExhaustedError(absl::StrCat("fork failed: ", std::strerror(errno)));
    }
  }
  log_info(logger, absl::StrCat("started ", nproc, " ranks (MASTER_ADDR=127.0.0.1, MASTER_PORT=",
                                port, ")"));

  int failed = -1;  // the first rank that failed
  std::chrono::steady_clock::time_point kill_at{};
  auto running = [&] {
    for (const Rank& r : ranks) {
      if (!r.done) return true;
    }
    return false;
  };
  while (running()) {
    const timespec tick{0, 200 * 1000 * 1000};
    const int sig = ::sigtimedwait(&watched, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      for (const Rank& r : ranks) {
        if (!r.done) ::kill(-r.pid, sig);
      }
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      for (size_t i = 0; i < ranks.size(); ++i) {
        if (ranks[i].pid != pid) continue;
        describe(status, ranks[i]);
        const bool ok = ranks[i].exit_code == 0 || ranks[i].exit_code == 130;
        if (!ok && failed < 0) {
          failed = static_cast<int>(i);
          log_warning(logger, absl::StrCat("rank ", i, " (pid ", pid, ") ", ranks[i].how,
                                           "; stopping the other ranks"));
          for (const Rank& other : ranks) {
            if (!other.done) ::kill(-other.pid, SIGTERM);
          }
          kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        }
      }
    }
    if (failed >= 0 && std::chrono::steady_clock::now() >= kill_at) {
      for (const Rank& r : ranks) {
        if (!r.done) ::kill(-r.pid, SIGKILL);
      }
    }
  }
  ::sigprocmask(SIG_SETMASK, &original, nullptr);
  if (failed >= 0) {
    return absl::AbortedError(absl::StrCat("rank ", failed, " of ", nproc, " ",
                                           ranks[failed].how, "; the other ranks were stopped (its "
                                           "log: run.dir/logs/rank-", failed, ".log)"));
  }
  int code = 0;
  for (const Rank& r : ranks) code = std::max(code, r.exit_code);
  return code;
}

}  // namespace forge::rl
