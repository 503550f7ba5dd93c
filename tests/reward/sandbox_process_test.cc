// The host-side process helpers of the sandbox workers: a process that runs sandboxes is a child
// subreaper and reaps the orphans re-parented to it (a sandbox's init outlives bwrap for a moment),
// without ever signalling a process that is not its child.
#include "reward/code/sandbox_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace forge::reward::code {
namespace {

// The state letter of /proc/<pid>/stat ('Z' for a zombie), or 0 when there is no such process.
char state_of(pid_t pid) {
  FILE* f = fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return 0;
  char buf[512] = {0};
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  std::string s(buf, n);
  size_t close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() ? 0 : s[close + 2];
}

TEST(SandboxProcess, AnOrphanedGrandchildIsReapedByTheSubreaper) {
  ASSERT_TRUE(become_child_subreaper());
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child starts a grandchild and exits: the grandchild is orphaned, like a sandbox's init
    // whose bwrap was killed.
    const pid_t grandchild = fork();
    if (grandchild == 0) {
      close(ready[0]);
      pause();
      _exit(0);
    }
    (void)!write(ready[1], &grandchild, sizeof(grandchild));
    _exit(0);
  }
  close(ready[1]);
  pid_t grandchild = -1;
  ASSERT_EQ(read(ready[0], &grandchild, sizeof(grandchild)), ssize_t(sizeof(grandchild)));
  close(ready[0]);
  kill_and_reap(child);
  // Re-parented to us (not to PID 1): ours to reap, and reaping it leaves nothing, no zombie.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(reap_orphan(grandchild));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(state_of(grandchild), 0);
  // A second time it is nobody's child of ours: no wait, no signal.
  EXPECT_FALSE(reap_orphan(grandchild));
}

TEST(SandboxProcess, NeverSignalsAProcessThatIsNotItsChild) {
  // Our parent is not our child: reap_orphan must neither wait for it nor kill it.
  const pid_t parent = getppid();
  EXPECT_FALSE(reap_orphan(parent));
  EXPECT_NE(state_of(parent), 0);
  EXPECT_FALSE(reap_orphan(-1));
  EXPECT_FALSE(reap_orphan(0));
}

TEST(SandboxProcess, ReadsTheInitPidFromBwrapsInfo) {
  EXPECT_EQ(sandbox_init_pid("{\n    \"child-pid\": 11457,\n    \"pid-namespace\": 4026\n}"),
            11457);
  EXPECT_EQ(sandbox_init_pid("{\n    \"child-pid\": 114"), -1);  // not all written yet
  EXPECT_EQ(sandbox_init_pid("{\n"), -1);
  EXPECT_EQ(sandbox_init_pid(""), -1);
}

}  // namespace
}  // namespace forge::reward::code
