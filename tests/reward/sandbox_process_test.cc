// The host-side process helpers the sandbox workers shut down with: the /proc scan that finds a
// worker's process tree must hold up while processes come and go, as they do when a pool stops.
#include "reward/code/sandbox_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace forge::reward::code {
namespace {

TEST(SandboxProcess, ChildrenOfFindsEveryChildAndNoOtherProcess) {
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      pause();
      _exit(0);
    }
    children.push_back(pid);
  }
  std::vector<pid_t> found = children_of(getpid());
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, children);
  EXPECT_TRUE(children_of(children[0]).empty());
  for (pid_t pid : children) kill_and_reap(pid);
  EXPECT_TRUE(wait_until_gone(children, std::chrono::milliseconds(1000)));
  EXPECT_TRUE(children_of(getpid()).empty());
}

// Processes that exit between the scan's directory listing and its read of their /proc/<pid>/stat
// (the read then fails with ESRCH) are skipped: the scan neither throws nor reports them.
TEST(SandboxProcess, ChildrenOfHoldsUpWhileProcessesExitDuringTheScan) {
  std::atomic<bool> stop{false};
  std::atomic<long> exited{0};
  std::thread churn([&] {
    while (!stop.load()) {
      const pid_t pid = fork();
      if (pid == 0) _exit(0);
      if (pid > 0 && waitpid(pid, nullptr, 0) == pid) exited.fetch_add(1);
    }
  });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  long scans = 0, threw = 0;
  size_t most_found = 0;
  std::string first_error;
  while (std::chrono::steady_clock::now() < until) {
    try {
      most_found = std::max(most_found, children_of(getpid()).size());
    } catch (const std::exception& e) {
      if (threw++ == 0) first_error = e.what();
    }
    ++scans;
  }
  stop = true;
  churn.join();
  EXPECT_EQ(threw, 0) << "of " << scans << " scans; first: " << first_error;
  EXPECT_LE(most_found, 1u);  // at most the one child alive at that moment
  EXPECT_GT(scans, 10);
  EXPECT_GT(exited.load(), 100);
}

}  // namespace
}  // namespace forge::reward::code
