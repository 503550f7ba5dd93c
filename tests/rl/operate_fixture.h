// The operating tests' fixture (operate_test.cc, operate_security_test.cc): a real `forge run`
// started as a child process on a small MoE that takes a fraction of a second a step, the child
// processes they start beside it, and a TrainerService client.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "base/file_util.h"
#include "forge/v1/trainer.grpc.pb.h"
#include "proto/grpc_util.h"
#include "tests/common/forge_command.h"
#include "tests/common/small_model_yaml.h"

namespace forge::test_support::operate {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A free TCP port on 127.0.0.1 (the kernel's pick; released for the child to bind).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A child process (`program ARGS...`, output to `log`), killed and reaped when the object goes.
class Child {
 public:
  Child(const std::string& program, const std::vector<std::string>& args, const fs::path& log)
      : log_(log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv = {const_cast<char*>(program.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execvp(program.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // The exit code (128 + signal when killed), or -1 when it is still running after `timeout`.
  int wait(seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {  // looks at least once: wait(seconds(0)) says whether it is still running
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  std::string output() const { return forge::read_file(log_.string()).value_or(""); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

template <typename Predicate>
bool eventually(Predicate predicate, seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return predicate();
}

class OperateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("forge_operate_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto gen = forge::test_support::run_forge("data gen --task arithmetic --n 64 --seed 1 --out " +
                                              (dir_ / "train.jsonl").string());
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    // The small MoE of the run tests: a step takes a fraction of a second.
    std::ofstream(dir_ / "run.yaml")
        << small_model_yaml() << "data: {train: train.jsonl}\n"
        << "rollout: {workers: 1, n: 4, max_new_tokens: 24}\n"
        << "trainer: {total_steps: 100000, batch_size: 4, lr: 1.0e-3, micro_batch_size: 8}\n";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string config() { return (dir_ / "run.yaml").string(); }

  // `forge run` for (practically) ever with `extra` arguments, in run.dir dir_/NAME.
  static std::unique_ptr<Child> start_run(const std::string& name,
                                          const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", config(), "run.dir=" + (dir_ / name).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Child>(FORGE_BINARY, args, dir_ / (name + ".log"));
  }

  static size_t steps_of(const std::string& name) {
    return read_jsonl(dir_ / name / "metrics.jsonl").size();
  }

  static inline fs::path dir_;
};

inline std::unique_ptr<forge::v1::TrainerService::Stub> trainer(
    const std::string& address, const forge::net::Security& security = {}) {
  return forge::v1::TrainerService::NewStub(forge::net::make_channel(address, security));
}

inline grpc::Status get_status(forge::v1::TrainerService::Stub& stub, forge::v1::TrainerStatus* out) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  return stub.GetStatus(&context, forge::v1::GetStatusRequest(), out);
}

template <typename Request, typename Response, typename Call>
grpc::Status call(Call method, forge::v1::TrainerService::Stub& stub, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(60));
  return (stub.*method)(&context, Request(), response);
}

// Pauses the run behind `stub` and waits (up to 60 s) until its loop says so: its status then
// (state() is not "paused" when the pause failed or did not take).
inline forge::v1::TrainerStatus pause(forge::v1::TrainerService::Stub& stub) {
  forge::v1::PauseRolloutsResponse paused;
  forge::v1::TrainerStatus status;
  if (!call<forge::v1::PauseRolloutsRequest>(&forge::v1::TrainerService::Stub::PauseRollouts, stub,
                                             &paused)
           .ok()) {
    return status;
  }
  eventually([&] { return get_status(stub, &status).ok() && status.state() == "paused"; },
             seconds(60));
  return status;
}

}  // namespace forge::test_support::operate
