// A `forge` child process for the tests that talk to it while it runs (servers, long runs): started
// from FORGE_BINARY with its stdout (and stderr) on a pipe, read as it comes, signalled, and waited
// for; killed (SIGKILL) and reaped on destruction, so no test leaves one behind.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace forge::test_support {

class ForgeProcess {
 public:
  explicit ForgeProcess(const std::vector<std::string>& args, bool merge_stderr = true) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      if (merge_stderr) ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv = {const_cast<char*>(FORGE_BINARY)};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(FORGE_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~ForgeProcess() {
    if (pid_ > 0 && exit_code_ == kRunning) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  ForgeProcess(const ForgeProcess&) = delete;
  ForgeProcess& operator=(const ForgeProcess&) = delete;

  pid_t pid() const { return pid_; }  // <= 0 when it could not start
  const std::string& output() const { return output_; }

  // Reads until `needle` is in the output, the output ends or `timeout` passes; all output so far.
  const std::string& read_until(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (output_.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end &&
           read_some(50)) {
    }
    return output_;
  }

  void signal(int sig) {
    if (pid_ > 0 && exit_code_ == kRunning) ::kill(pid_, sig);
  }

  // Reads the rest of the output and waits for the exit; SIGKILL once `timeout` passes. The exit
  // code, 128 + the signal for a process a signal ended.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    if (exit_code_ != kRunning || pid_ <= 0) return exit_code_;
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (read_some(100)) {
      if (std::chrono::steady_clock::now() > end) ::kill(pid_, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

 private:
  static constexpr int kRunning = -1000;

  // Waits up to `timeout_ms` for output; false at the end of it.
  bool read_some(int timeout_ms) {
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char buffer[4096];
    const ssize_t n = ::read(out_, buffer, sizeof buffer);
    if (n <= 0) return false;
    output_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  int exit_code_ = kRunning;
};

}  // namespace forge::test_support
