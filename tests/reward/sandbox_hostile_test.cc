// Hostile programs: each must end with reward 0, within its limits, with nothing left running on
// the host, nothing written outside the sandbox, and the pool still working afterwards.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/reward/sandbox_test_util.h"

namespace forge::reward::code {
namespace {

using Clock = std::chrono::steady_clock;
using testing::humaneval_tests;
using testing::stdio_tests;

const char kTest[] =
    "def check(candidate):\n"
    "    assert candidate(2) == 4\n"
    "    assert candidate(3) == 9\n";
const char kGood[] = "def f(x):\n    return x * x\n";

class HostileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A secret in our environment: no sandbox may see it.
    setenv("FORGE_CODE_TEST_SECRET", "hunter2-env-secret", 1);
    WorkerPool::Options o;
    o.sandbox = testing::fast_config();
    o.sandbox.wall_seconds = 2.5;
    o.sandbox.cpu_seconds = 1.5;
    o.sandbox.memory_bytes = 160ll << 20;
    o.workers = 2;
    config_ = new SandboxConfig(o.sandbox);
    auto pool = WorkerPool::create(o);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = pool->release();
    ASSERT_TRUE(pool_->wait_until_ready(2, std::chrono::seconds(60)));
  }
  static void TearDownTestSuite() {
    delete pool_;
    pool_ = nullptr;
    // With the pool gone, not one process of the sandbox uid may remain: idle workers exit in
    // order (worker, bwrap's init, bwrap), so the pool's destructor returns after them.
    if (geteuid() == 0) {
      auto left = testing::leftovers(*config_, {}, "");
      EXPECT_TRUE(left.empty()) << testing::describe(left);
    }
    delete config_;
  }

  void SetUp() override {
    marker_ = absl::StrCat("forge-marker-", getpid(), "-",
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  // Program text with MARKER replaced by this test's marker.
  std::string with_marker(const std::string& program) const {
    return absl::StrReplaceAll(program, {{"MARKER", marker_}});
  }

  // Grades, checks reward 0 and the time it took, then that nothing survived and the pool works.
  RuleResult expect_contained(const std::string& program, const nlohmann::json& tests,
                              double max_seconds) {
    auto start = Clock::now();
    auto r = testing::grade_with(*pool_, with_marker(program), tests);
    double took = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_TRUE(r.ok()) << r.status();
    RuleResult out = r.ok() ? *r : RuleResult{};
    EXPECT_EQ(out.reward, 0.0) << out.detail;
    EXPECT_LT(took, max_seconds) << out.detail;
    EXPECT_TRUE(pool_->wait_until_ready(2, std::chrono::seconds(30)));
    auto left = testing::leftovers(*config_, pool_->worker_pids(), marker_);
    EXPECT_TRUE(left.empty()) << testing::describe(left);
    auto good = testing::grade_with(*pool_, kGood, humaneval_tests(kTest, "f"));
    EXPECT_TRUE(good.ok() && good->reward == 1.0) << (good.ok() ? good->detail : "error");
    return out;
  }

  static WorkerPool* pool_;
  static SandboxConfig* config_;
  std::string marker_;
};
WorkerPool* HostileTest::pool_ = nullptr;
SandboxConfig* HostileTest::config_ = nullptr;

TEST_F(HostileTest, InfiniteLoop) {
  auto r = expect_contained("def f(x):\n    while True:\n        pass\n",
                            humaneval_tests(kTest, "f"), 8);
  EXPECT_TRUE(r.detail.find("CPU time limit") != std::string::npos ||
              r.detail.find("timeout") != std::string::npos)
      << r.detail;
}

TEST_F(HostileTest, SleepPastTheLimit) {
  auto r = expect_contained("import time\ndef f(x):\n    time.sleep(60)\n",
                            humaneval_tests(kTest, "f"), 8);
  EXPECT_NE(r.detail.find("timeout"), std::string::npos) << r.detail;
}

TEST_F(HostileTest, SigtermIgnoredAndChildrenSleeping) {
  expect_contained(
      "import os, signal, subprocess, time\n"
      "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
      "subprocess.Popen(['/usr/bin/python3', '-c', 'import signal, time; "
      "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)', 'MARKER'])\n"
      "def f(x):\n    time.sleep(60)\n",
      humaneval_tests(kTest, "f"), 8);
}

TEST_F(HostileTest, ForkBomb) {
  expect_contained(
      "import os\n"
      "def f(x):\n"
      "    while True:\n"
      "        try:\n"
      "            os.fork()\n"
      "        except OSError:\n"
      "            pass\n",
      humaneval_tests(kTest, "f"), 8);
}

TEST_F(HostileTest, ThreadBomb) {
  expect_contained(
      "import threading, time\n"
      "def f(x):\n"
      "    while True:\n"
      "        threading.Thread(target=time.sleep, args=(60,)).start()\n",
      humaneval_tests(kTest, "f"), 8);
}

TEST_F(HostileTest, MemoryBomb) {
  auto r = expect_contained(
      "def f(x):\n"
      "    hog = []\n"
      "    while True:\n"
      "        hog.append(bytearray(8 << 20))\n",
      humaneval_tests(kTest, "f"), 10);
  EXPECT_TRUE(r.detail.find("MemoryError") != std::string::npos ||
              r.detail.find("timeout") != std::string::npos)
      << r.detail;
}

TEST_F(HostileTest, DiskFill) {
  std::string host_tmp = absl::StrCat("/tmp/", marker_, "-fill");
  auto r = expect_contained(
      "import errno, os\n"
      "written = 0\n"
      "for d in ['/tmp', '/dev/shm', '/', '/usr', '/etc', '/var/tmp', '/dev']:\n"
      "    for i in range(100):\n"
      "        try:\n"
      "            with open(os.path.join(d, 'MARKER-fill-%d' % i), 'wb') as out:\n"
      "                while True:\n"
      "                    out.write(b'x' * (1 << 20))\n"
      "                    written += 1\n"
      "        except OSError as e:\n"
      "            if e.errno != errno.EFBIG:\n"
      "                break\n"
      "print('wrote %d MiB' % written)\n",
      stdio_tests("", "pwned"), 10);
  // It ran to the end (all its writes failed or filled the private tmpfs), within the tmpfs sizes.
  EXPECT_NE(r.detail.find("wrong output (got 'wrote "), std::string::npos) << r.detail;
  EXPECT_FALSE(std::filesystem::exists(host_tmp + "-0"));
  EXPECT_FALSE(std::filesystem::exists("/" + marker_ + "-fill-0"));
}

TEST_F(HostileTest, OutputFlood) {
  // Stopped by the output cap, not by the clock.
  auto r = expect_contained("while True:\n    print('spam' * 1000)\n", stdio_tests("", "x"), 8);
  EXPECT_NE(r.detail.find("output limit"), std::string::npos) << r.detail;
}

TEST_F(HostileTest, NetworkConnectToLoopbackListener) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  auto r = expect_contained(
      absl::StrCat("import socket\n"
                   "results = []\n"
                   "for host in ['127.0.0.1', 'localhost', '::1', '10.0.2.2', '1.1.1.1']:\n"
                   "    try:\n"
                   "        socket.create_connection((host, ",
                   port,
                   "), timeout=1).close()\n"
                   "        results.append('connected')\n"
                   "    except OSError as e:\n"
                   "        results.append('blocked')\n"
                   "print(results)\n"),
      stdio_tests("", "pwned"), 10);
  EXPECT_NE(r.detail.find("blocked"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.find("connected"), std::string::npos) << r.detail;
  int conn = accept(listener, nullptr, nullptr);
  EXPECT_LT(conn, 0) << "a sandboxed program connected to the host's loopback listener";
  if (conn >= 0) close(conn);
  close(listener);
}

TEST_F(HostileTest, EnvironmentHoldsNoSecrets) {
  auto r = expect_contained(
      "import os\n"
      "seen = ' '.join('%s=%s' % kv for kv in os.environ.items())\n"
      "for pid in os.listdir('/proc'):\n"
      "    for f in ('environ', 'cmdline'):\n"
      "        try:\n"
      "            seen += open('/proc/%s/%s' % (pid, f), 'rb').read().decode(errors='replace')\n"
      "        except OSError:\n"
      "            pass\n"
      "print('FOUND' if 'hunter2' in seen else 'absent', sorted(os.environ))\n",
      stdio_tests("", "FOUND"), 8);
  EXPECT_NE(r.detail.find("absent"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.find("hunter2"), std::string::npos) << r.detail;
}

TEST_F(HostileTest, WritingOutsideTheSandbox) {
  std::string dir = absl::StrCat("/tmp/", marker_, "-dir");
  ASSERT_TRUE(std::filesystem::create_directories(dir));
  chmod(dir.c_str(), 0777);
  std::string cwd = std::filesystem::current_path().string();
  auto r = expect_contained(
      absl::StrCat("import os\n"
                   "ok = 0\n"
                   "for p in ['",
                   dir, "/owned', '/tmp/MARKER-owned', '", cwd,
                   "/MARKER-owned', '/root/MARKER-owned', '/etc/MARKER-owned',\n"
                   "          '/usr/MARKER-owned', '/MARKER-owned', '/var/tmp/MARKER-owned']:\n"
                   "    try:\n"
                   "        open(p, 'w').write('owned')\n"
                   "        ok += 1\n"
                   "    except OSError:\n"
                   "        pass\n"
                   "print('wrote', ok)\n"),
      stdio_tests("", "pwned"), 8);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << dir;
  for (const std::string& p :
       {absl::StrCat("/tmp/", marker_, "-owned"), absl::StrCat(cwd, "/", marker_, "-owned"),
        absl::StrCat("/root/", marker_, "-owned"), absl::StrCat("/", marker_, "-owned"),
        absl::StrCat("/var/tmp/", marker_, "-owned")}) {
    EXPECT_FALSE(std::filesystem::exists(p)) << p;
  }
  std::filesystem::remove_all(dir);
}

TEST_F(HostileTest, KillTheParentAndEverythingVisible) {
  std::vector<pid_t> before = pool_->worker_pids();
  expect_contained(
      "import os, signal\n"
      "def f(x):\n"
      "    for target in (os.getppid(), 0, -1, 1):\n"
      "        try:\n"
      "            os.kill(target, signal.SIGKILL)\n"
      "        except OSError:\n"
      "            pass\n"
      "    for pid in os.listdir('/proc'):\n"
      "        if pid.isdigit():\n"
      "            try:\n"
      "                os.kill(int(pid), signal.SIGKILL)\n"
      "            except OSError:\n"
      "                pass\n"
      "    return x * x + 1\n",
      humaneval_tests(kTest, "f"), 8);
  EXPECT_EQ(pool_->worker_pids(), before) << "a worker was killed by a program";
}

TEST_F(HostileTest, DaemonThatDetaches) {
  auto r = expect_contained(
      "import os, time\n"
      "if os.fork() == 0:\n"
      "    os.setsid()\n"
      "    if os.fork() == 0:\n"
      "        os.execv('/usr/bin/python3', ['python3', '-c', 'import time; time.sleep(120)',\n"
      "                 'MARKER'])\n"
      "    os._exit(0)\n"
      "time.sleep(0.5)\n"
      "def f(x):\n    return 0\n",
      humaneval_tests(kTest, "f"), 8);
  // The job ended normally (no timeout waiting on the daemon), and the daemon is gone.
  EXPECT_NE(r.detail.find("test 1: AssertionError"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace forge::reward::code
