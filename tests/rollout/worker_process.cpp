#include "worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

namespace forge::rollout::testing {
namespace {

pid_t spawn(const std::vector<std::string>& args, int* out_fd) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(FORGE_BINARY));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(FORGE_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

// Reads what is available within `timeout_ms`; false at end of file.
bool read_some(int fd, std::string* out, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return true;
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n <= 0) return false;
  out->append(buf, n);
  return true;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::unique_ptr<WorkerProcess> WorkerProcess::start(const std::vector<std::string>& args,
                                                    std::string* output,
                                                    std::chrono::seconds timeout) {
  std::vector<std::string> full = {"rollout-worker"};
  full.insert(full.end(), args.begin(), args.end());
  std::unique_ptr<WorkerProcess> w(new WorkerProcess());
  w->pid_ = spawn(full, &w->out_fd_);
  if (w->pid_ < 0) return nullptr;
  const std::regex listening("listening on [^ ]*:([0-9]+)");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    if (std::regex_search(*output, m, listening)) {
      w->port_ = std::stoi(m[1]);
      return w;
    }
    if (!read_some(w->out_fd_, output, 100)) break;
  }
  w->signal(SIGKILL);
  w->wait(output);
  return nullptr;
}

WorkerProcess::~WorkerProcess() {
  if (!reaped_) {
    signal(SIGKILL);
    std::string ignored;
    wait(&ignored);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

void WorkerProcess::signal(int sig) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, sig);
}

int WorkerProcess::wait(std::string* output) {
  // A process that does not exit within 30 s is killed (and its exit code says so).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (read_some(out_fd_, output, 200)) {
    if (std::chrono::steady_clock::now() > deadline) ::kill(pid_, SIGKILL);
  }
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
  return exit_code(status);
}

int run_forge(const std::vector<std::string>& args, std::string* output) {
  int fd = -1;
  const pid_t pid = spawn(args, &fd);
  while (read_some(fd, output, 1000)) {
  }
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return exit_code(status);
}

}  // namespace forge::rollout::testing
