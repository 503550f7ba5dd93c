// Child processes of `forge run`: started in their own process group, stopped with everything they
// started, dead when their parent dies; the supervisor names a child that fails and turns SIGINT into
// a stop request.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "proto/grpc_util.h"
#include "rl/orchestrator/child_process.h"
#include "rl/orchestrator/supervisor.h"
#include "tests/common/forge_command.h"

#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

using forge::test_support::processes_with;

bool wait_gone(const std::string& marker, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (processes_with(marker).empty()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return processes_with(marker).empty();
}

class OrchestratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    marker_ = "forge-test-marker-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  test_support::TempDir tmp_{"forge_orch"};
  const fs::path& dir_ = tmp_.path();
  std::string marker_;
};

TEST_F(OrchestratorTest, StopKillsTheChildAndWhatItStarted) {
  // The shell ignores SIGTERM and starts a grandchild: only the group SIGKILL ends them.
  const std::string script =
      "trap '' TERM; /bin/sh -c \"trap '' TERM; sleep 300; : " + marker_ + "\" & wait; : " + marker_;
  auto child = ChildProcess::start("sleeper", {"/bin/sh", "-c", script}, (dir_ / "s.log").string());
  ASSERT_TRUE(child.ok()) << child.status();
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(child->running());
  EXPECT_EQ(processes_with(marker_).size(), 2u);  // the child and its grandchild
  child->stop(milliseconds(300));
  EXPECT_FALSE(child->running());
  EXPECT_NE(child->exit_description().find("signal"), std::string::npos)
      << child->exit_description();
  EXPECT_TRUE(wait_gone(marker_, milliseconds(2000)));
}

TEST_F(OrchestratorTest, ChildOutputGoesToItsLog) {
  auto child = ChildProcess::start("echo", {"/bin/sh", "-c", "echo hello-from-child; exit 3"},
                                   (dir_ / "echo.log").string());
  ASSERT_TRUE(child.ok());
  while (child->running()) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(child->exit_description(), "exited with status 3");
  std::ifstream in(dir_ / "echo.log");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("hello-from-child"), std::string::npos);
}

TEST_F(OrchestratorTest, ChildrenDieWithTheirParent) {
  // A middle process starts a child through ChildProcess, then is SIGKILLed: no destructor runs,
  // so only PR_SET_PDEATHSIG can end the child.
  const pid_t middle = ::fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    auto child = ChildProcess::start("orphan", {"/bin/sh", "-c", "sleep 300; : " + marker_},
                                     (dir_ / "o.log").string());
    if (!child.ok()) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (processes_with(marker_).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_FALSE(processes_with(marker_).empty());
  ::kill(middle, SIGKILL);
  ::waitpid(middle, nullptr, 0);
  EXPECT_TRUE(wait_gone(marker_, milliseconds(3000)));
}

TEST_F(OrchestratorTest, ServiceThatExitsIsAnErrorNamingItAndItsLog) {
  Supervisor supervisor(dir_.string(), "/bin/sh");
  auto address = supervisor.start_service(
      "broken-worker", {"-c", "echo cannot-load-model >&2; exit 4", "sh"}, milliseconds(5000));
  ASSERT_FALSE(address.ok());
  const std::string message(address.status().message());
  EXPECT_NE(message.find("broken-worker"), std::string::npos) << message;
  EXPECT_NE(message.find("exited with status 4"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot-load-model"), std::string::npos) << message;
}

TEST_F(OrchestratorTest, AUnixSocketServiceIsReachableAndItsSocketIsRemovedAtStop) {
  Supervisor supervisor(dir_.string(), FORGE_BINARY);
  auto address = supervisor.start_service(
      "rollout-worker-0",
      {"rollout-worker", "--config", std::string(FORGE_SOURCE_DIR) + "/configs/tiny.yaml", "run.threads=1"},
      milliseconds(60000), Supervisor::Listen::kUnixSocket);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(*address, "unix:" + (dir_ / "rollout-worker-0.sock").string());
  EXPECT_TRUE(forge::net::check_health(*address, milliseconds(2000)).ok());
  EXPECT_TRUE(supervisor.health().ok());
  supervisor.stop_all(milliseconds(2000));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "rollout-worker-0.sock"));
  EXPECT_FALSE(forge::net::check_health(*address, milliseconds(500)).ok());
}

TEST_F(OrchestratorTest, ServiceThatNeverGetsHealthyTimesOutAndIsStopped) {
  Supervisor supervisor(dir_.string(), "/bin/sh");
  auto address = supervisor.start_service("silent", {"-c", "sleep 300; : " + marker_, "sh"},
                                          milliseconds(500));
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(wait_gone(marker_, milliseconds(3000)));
}

TEST_F(OrchestratorTest, SigintBecomesAStopRequest) {
  Supervisor supervisor(dir_.string());
  std::atomic<int> seen{0};
  supervisor.set_on_stop_request([&](int count) { seen = count; });
  EXPECT_FALSE(supervisor.stop_requested());
  ::kill(::getpid(), SIGINT);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(seen.load(), 1);
  EXPECT_TRUE(supervisor.stop_requested());
  ::kill(::getpid(), SIGTERM);
  while (seen.load() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(supervisor.stop_signals(), 2);
}

TEST(FreePort, IsBindable) {
  auto port = pick_free_port();
  ASSERT_TRUE(port.ok());
  EXPECT_GT(*port, 0);
}

}  // namespace
}  // namespace forge::rl
