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

#include <cstring>

#include "absl/strings/str_cat.h"

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
                             int cmd_fd, int reply_fd, int diag_fd, int info_fd, int err_fd) {
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
  // Move the fds to 0..2 (and 3) without clobbering each other, then close everything else.
  int hi_cmd = fcntl(cmd_fd, F_DUPFD, 10), hi_reply = fcntl(reply_fd, F_DUPFD, 10),
      hi_diag = fcntl(diag_fd, F_DUPFD, 10);
  int hi_info = info_fd >= 0 ? fcntl(info_fd, F_DUPFD, 10) : 0;
  if (hi_cmd < 0 || hi_reply < 0 || hi_diag < 0 || hi_info < 0) fail(3);
  if (dup2(hi_cmd, 0) < 0 || dup2(hi_reply, 1) < 0 || dup2(hi_diag, 2) < 0) fail(3);
  if (info_fd >= 0 && dup2(hi_info, 3) < 0) fail(3);
  const int first_free = info_fd >= 0 ? 4 : 3;
  int err_hi = fcntl(err_fd, F_DUPFD_CLOEXEC, first_free);
  if (err_hi < 0) fail(3);
  err_fd = err_hi;
  if (err_fd > first_free) close_fds(first_free, err_fd - 1);
  close_fds(err_fd + 1, ~0U);
  if (chdir("/") != 0) fail(4);
  execve(argv[0], argv, envp);
  fail(5);
  _exit(127);
}

}  // namespace

absl::StatusOr<SpawnedProcess> spawn_process(const std::vector<std::string>& args, int uid, int gid,
                                             bool with_info_fd) {
  if (args.empty()) return absl::InvalidArgumentError("spawn_process: empty argv");
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  static char kPath[] = "PATH=/usr/bin:/bin";
  char* envp[] = {kPath, nullptr};

  int cmd[2] = {-1, -1}, reply[2] = {-1, -1}, diag[2] = {-1, -1}, err[2] = {-1, -1},
      info[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cmd) != 0 ||
      pipe2(reply, O_CLOEXEC) != 0 || pipe2(diag, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      (with_info_fd && pipe2(info, O_CLOEXEC) != 0)) {
    int e = errno;
    close_pair(cmd), close_pair(reply), close_pair(diag), close_pair(err), close_pair(info);
    return absl::InternalError(absl::StrCat("spawn_process: pipe: ", strerror(e)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close_pair(cmd), close_pair(reply), close_pair(diag), close_pair(err), close_pair(info);
    return absl::UnavailableError(absl::StrCat("spawn_process: fork: ", strerror(e)));
  }
  if (pid == 0) {
    child_exec(argv.data(), envp, uid, gid, parent, cmd[1], reply[1], diag[1], info[1], err[1]);
  }
  close(cmd[1]);
  close(reply[1]);
  close(diag[1]);
  close(err[1]);
  if (info[1] >= 0) close(info[1]);
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = read(err[0], msg, sizeof(msg));
  } while (n < 0 && errno == EINTR);
  close(err[0]);
  if (n > 0) {
    close(cmd[0]), close(reply[0]), close(diag[0]);
    if (info[0] >= 0) close(info[0]);
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
  p.info_fd = info[0];
  return p;
}

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  if (kill(pid, SIGKILL) != 0 && errno == ESRCH) return;  // already reaped
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool become_child_subreaper() { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }

bool reap_orphan(pid_t pid) {
  if (pid <= 0) return false;
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  // WNOWAIT: only asks whether pid is our child; ECHILD when it is not (then it may be anybody's).
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  kill(pid, SIGKILL);  // ours, so not recycled: it stays ours until the waitpid below
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return true;
}

pid_t sandbox_init_pid(const std::string& json_text) {
  const size_t key = json_text.find("\"child-pid\"");
  if (key == std::string::npos) return -1;
  size_t i = json_text.find(':', key);
  if (i == std::string::npos) return -1;
  ++i;
  while (i < json_text.size() && (json_text[i] == ' ' || json_text[i] == '\n')) ++i;
  long value = 0;
  size_t digits = 0;
  while (i < json_text.size() && json_text[i] >= '0' && json_text[i] <= '9' && digits < 10) {
    value = value * 10 + (json_text[i++] - '0');
    ++digits;
  }
  // A number cut off by the end of what was read so far is not the number yet.
  if (digits == 0 || i >= json_text.size()) return -1;
  return static_cast<pid_t>(value);
}

}  // namespace forge::reward::code
