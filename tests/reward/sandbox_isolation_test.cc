// What each program process of the code sandbox starts with, and what it keeps to itself: real
// bubblewrap sandboxes running real Python programs, one worker (one zygote) per test.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/reward/sandbox_test_util.h"

namespace forge::reward::code {
namespace {

using testing::fast_config;
using testing::one_worker_pool;
using testing::stdio_tests;

// A program cannot leave anything behind for the next program on the same worker: files in /tmp
// or /dev/shm, changed modules, SysV shared memory, a changed hostname.
TEST(CodeIsolation, NothingCarriesOverBetweenProgramsOnOneWorker) {
  auto pool = one_worker_pool(fast_config());
  ASSERT_TRUE(pool.ok()) << pool.status();
  const char kTaint[] =
      "import math, os, socket, ctypes\n"
      "open('/tmp/taint', 'w').write('x')\n"
      "open('/dev/shm/taint', 'w').write('x')\n"
      "math.pi = 3\n"
      "libc = ctypes.CDLL(None)\n"
      "print(libc.shmget(0x7a7a, 4096, 0o1666))\n"
      "try:\n    socket.sethostname('tainted')\nexcept OSError as e:\n    print(e)\n"
      "print('tainted')\n";
  auto first = testing::grade_with(**pool, kTaint, stdio_tests("", "tainted"));
  ASSERT_TRUE(first.ok()) << first.status();
  const char kProbe[] =
      "import math, os, socket, ctypes\n"
      "libc = ctypes.CDLL(None)\n"
      "found = [os.path.exists('/tmp/taint'), os.path.exists('/dev/shm/taint'), math.pi == 3,\n"
      "         libc.shmget(0x7a7a, 4096, 0) != -1, socket.gethostname() == 'tainted']\n"
      "print(found)\n";
  auto second =
      testing::grade_with(**pool, kProbe, stdio_tests("", "[False, False, False, False, False]"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->reward, 1.0) << second->detail;
  EXPECT_EQ((*pool)->started(), 1);  // the same worker ran both
}

// Running as root (as CI does), the sandbox runs as the configured unprivileged host uid, and
// RLIMIT_NPROC holds: a program cannot have more processes than max_processes.
TEST(CodeSandbox, RunsUnprivilegedWithAProcessLimit) {
  const SandboxConfig config = fast_config();
  auto pool = one_worker_pool(config);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->wait_until_ready(1, std::chrono::seconds(60)));
  for (pid_t pid : (*pool)->worker_pids()) {
    for (const auto& p : testing::list_processes()) {
      if (p.pid == pid) EXPECT_EQ(p.uid, testing::host_uid_of(config));
    }
  }
  EXPECT_NE(testing::host_uid_of(config), 0u);
  const char kProbe[] =
      "import os, time\n"
      "n = 0\n"
      "try:\n"
      "    for _ in range(200):\n"
      "        if os.fork() == 0:\n"
      "            time.sleep(30)\n"
      "            os._exit(0)\n"
      "        n += 1\n"
      "except OSError:\n"
      "    pass\n"
      "caps = open('/proc/self/status').read().split('CapEff:')[1].split()[0]\n"
      "print('capped' if 0 < n < 24 else 'uncapped %d' % n, caps, os.getpid())\n";
  auto r = testing::grade_with(**pool, kProbe, stdio_tests("", "capped 0000000000000000 1"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 1.0) << r->detail;
}

// What each program process starts with (sandbox_spawn.c's setup): pid 1 and session leader of
// its own namespaces, cwd an empty /tmp of its own, only its stdio fds open, no capabilities in
// any set, no_new_privs, and the configured limits.
TEST(CodeSandbox, EachProgramStartsAloneUnprivilegedAndLimited) {
  SandboxConfig config = fast_config();
  config.max_open_files = 48;
  auto pool = one_worker_pool(config);
  ASSERT_TRUE(pool.ok()) << pool.status();
  const char kProbe[] =
      "import os, resource\n"
      "status = open('/proc/self/status').read()\n"
      "def field(k):\n"
      "    return status.split(k + ':')[1].split()[0]\n"
      "fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))\n"
      "print(os.getpid(), os.getsid(0), os.getcwd(), os.listdir('/tmp'), fds)\n"
      "print([field(k) for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', "
      "'NoNewPrivs')])\n"
      "limits = [resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC,\n"
      "          resource.RLIMIT_FSIZE, resource.RLIMIT_AS, resource.RLIMIT_CORE)]\n"
      "print(limits, resource.getrlimit(resource.RLIMIT_CPU))\n";
  const std::string expected =
      "1 1 /tmp [] [0, 1, 2, 3]\n"  // fd 3: listdir's own
      "['0000000000000000', '0000000000000000', '0000000000000000', '0000000000000000', "
      "'0000000000000000', '1']\n"
      "[(48, 48), (24, 24), (4194304, 4194304), (201326592, 201326592), (0, 0)] (2, 3)";
  auto r = testing::grade_with(**pool, kProbe, stdio_tests("", expected));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 1.0) << r->detail;
}

// Every program process is forked from the same zygote, yet each draws its own random numbers,
// as a fresh interpreter would.
TEST(CodeSandbox, EachProgramDrawsItsOwnRandomNumbers) {
  auto pool = one_worker_pool(fast_config());
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::set<std::string> draws;
  for (int i = 0; i < 3; ++i) {
    // The expected output is never printed: the detail says what was ("wrong output (got ...)").
    auto r = testing::grade_with(**pool, "import random\nprint(random.getrandbits(60))\n",
                                 stdio_tests("", "never"));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_NE(r->detail.find("wrong output (got"), std::string::npos) << r->detail;
    draws.insert(r->detail);
  }
  EXPECT_EQ(draws.size(), 3u);
  EXPECT_EQ((*pool)->started(), 1);  // one worker, so one zygote, made all three
}

// The zygote runs a stdin/stdout program of its own before any run (so each program process
// finds that path warmed up): a program's stdin holds its own case's input and nothing else,
// and what it writes is its own.
TEST(CodeSandbox, EachStdioProgramReadsOnlyItsOwnInput) {
  auto pool = one_worker_pool(fast_config());
  ASSERT_TRUE(pool.ok()) << pool.status();
  const char kEcho[] = "import sys\nprint(repr(sys.stdin.read()))\n";
  for (const auto& [input, output] : std::vector<std::pair<std::string, std::string>>{
           {"a b\n", "'a b\\n'"}, {"", "''"}, {"1 2\n3 4", "'1 2\\n3 4'"}}) {
    auto r = testing::grade_with(**pool, kEcho, stdio_tests(input, output));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->reward, 1.0) << "input " << input << ": " << r->detail;
  }
  EXPECT_EQ((*pool)->started(), 1);
}

}  // namespace
}  // namespace forge::reward::code
