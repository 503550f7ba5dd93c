#include "reward/code/sandbox_process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"

namespace forge::reward::code {
namespace {

void close_pair(int fds[2]) {
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
}

// Closes fds [first, last]; async-signal-safe.
void close_fds(unsigned first, unsigned last) {
  if (syscall(SYS_close_range, first, last, 0) == 0) return;
  for (unsigned fd = first; fd <= last && fd < 65536; ++fd) close(static_cast<int>(fd));
}

// Async-signal-safe: runs between fork and exec. Reports a failure as (step, errno) on err_fd.
[[noreturn]] void child_exec(char* const* argv, char* const* envp, int uid, int gid, pid_t parent,
                             int cmd_fd, int reply_fd, int diag_fd, int err_fd) {
  int step = 0;
  auto fail = [&](int which) {
    int msg[2] = {which, errno};
    ssize_t ignored = write(err_fd, msg, sizeof(msg));
    (void)ignored;
    _exit(127);
  };
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  if (geteuid() == 0) {
    step = 1;
    if (setgroups(0, nullptr) != 0) fail(step);
    if (setresgid(gid, gid, gid) != 0) fail(step);
    if (setresuid(uid, uid, uid) != 0) fail(step);
  }
  // After the uid switch (a credential change clears it).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(2);
  if (getppid() != parent) _exit(127);
  // Move the three fds to 0..2 without clobbering each other, then close everything else.
  int hi_cmd = fcntl(cmd_fd, F_DUPFD, 10), hi_reply = fcntl(reply_fd, F_DUPFD, 10),
      hi_diag = fcntl(diag_fd, F_DUPFD, 10);
  if (hi_cmd < 0 || hi_reply < 0 || hi_diag < 0) fail(3);
  if (dup2(hi_cmd, 0) < 0 || dup2(hi_reply, 1) < 0 || dup2(hi_diag, 2) < 0) fail(3);
  int err_hi = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
  if (err_hi < 0) fail(3);
  err_fd = err_hi;
  if (err_fd > 3) close_fds(3, err_fd - 1);
  close_fds(err_fd + 1, ~0U);
  if (chdir("/") != 0) fail(4);
  execve(argv[0], argv, envp);
  fail(5);
  _exit(127);
}

}  // namespace

absl::StatusOr<SpawnedProcess> spawn_process(const std::vector<std::string>& args, int uid,
                                             int gid) {
  if (args.empty()) return absl::InvalidArgumentError("spawn_process: empty argv");
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  static char kPath[] = "PATH=/usr/bin:/bin";
  char* envp[] = {kPath, nullptr};

  int cmd[2] = {-1, -1}, reply[2] = {-1, -1}, diag[2] = {-1, -1}, err[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cmd) != 0 ||
      pipe2(reply, O_CLOEXEC) != 0 || pipe2(diag, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    close_pair(cmd), close_pair(reply), close_pair(diag), close_pair(err);
    return absl::InternalError(absl::StrCat("spawn_process: pipe: ", strerror(e)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close_pair(cmd), close_pair(reply), close_pair(diag), close_pair(err);
    return absl::UnavailableError(absl::StrCat("spawn_process: fork: ", strerror(e)));
  }
  if (pid == 0) {
    child_exec(argv.data(), envp, uid, gid, parent, cmd[1], reply[1], diag[1], err[1]);
  }
  close(cmd[1]);
  close(reply[1]);
  close(diag[1]);
  close(err[1]);
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = read(err[0], msg, sizeof(msg));
  } while (n < 0 && errno == EINTR);
  close(err[0]);
  if (n > 0) {
    close(cmd[0]), close(reply[0]), close(diag[0]);
    kill_and_reap(pid);
    static const char* const kSteps[] = {
        "", "switching to the sandbox uid/gid", "prctl", "setting up fds", "chdir /", "exec"};
    int step = (msg[0] >= 1 && msg[0] <= 5) ? msg[0] : 5;
    return absl::UnavailableError(
        absl::StrCat("starting ", args[0], ": ", kSteps[step], ": ", strerror(msg[1])));
  }
  SpawnedProcess p;
  p.pid = pid;
  p.command_fd = cmd[0];
  p.reply_fd = reply[0];
  p.diag_fd = diag[0];
  return p;
}

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  if (kill(pid, SIGKILL) != 0 && errno == ESRCH) return;  // already reaped
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  DIR* dir = opendir("/proc");
  if (!dir) return out;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    // A process may exit between readdir and the read: then the read fails and it is skipped.
    const absl::StatusOr<std::string> stat = read_file(std::string("/proc/") + e->d_name + "/stat");
    if (!stat.ok()) continue;
    const std::string& text = *stat;
    size_t close = text.rfind(')');  // "pid (comm) state ppid ...": comm may hold spaces
    if (close == std::string::npos || close + 4 >= text.size()) continue;
    if (std::atoi(text.c_str() + close + 4) == pid) out.push_back(std::atoi(e->d_name));
  }
  closedir(dir);
  return out;
}

bool wait_until_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    bool any = false;
    for (pid_t p : pids) any = any || access(("/proc/" + std::to_string(p)).c_str(), F_OK) == 0;
    if (!any) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace forge::reward::code
