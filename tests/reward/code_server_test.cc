// The code rule behind the real reward server on loopback: a batch of hostile programs is graded
// 0 each, a good program in the same batch 1, and the server stays up and keeps grading.
#include <gtest/gtest.h>

#include "reward/reward_client.h"
#include "reward/reward_server.h"
#include "tests/reward/sandbox_test_util.h"

namespace forge::reward {
namespace {

const char kTest[] =
    "def check(candidate):\n"
    "    assert candidate(2) == 4\n"
    "    assert candidate(3) == 9\n";

GradeItem code_item(const std::string& id, const std::string& program) {
  GradeItem item;
  item.id = id;
  item.rule = "code";
  item.completion = program;
  item.tests = code::testing::humaneval_tests(kTest, "f");
  return item;
}

TEST(CodeServer, StaysUpThroughHostilePrograms) {
  RewardConfig config;
  config.concurrency = 4;
  config.timeout_s = 30;
  code::SandboxConfig fast = code::testing::fast_config();
  config.code = {{"workers", 2},
                 {"wall_seconds", 2},
                 {"cpu_seconds", 1},
                 {"memory_mb", 160},
                 {"max_output_kb", 64},
                 {"sandbox_uid", fast.sandbox_uid},
                 {"sandbox_gid", fast.sandbox_gid}};
  auto server = RewardServer::start("127.0.0.1:0", config);
  ASSERT_TRUE(server.ok()) << server.status();
  RewardClient client("127.0.0.1:" + std::to_string((*server)->port()));

  const char* kHostile[] = {
      "def f(x):\n    while True:\n        pass\n",
      "import os\ndef f(x):\n    while True:\n        try:\n            os.fork()\n"
      "        except OSError:\n            pass\n",
      "def f(x):\n    hog = []\n    while True:\n        hog.append(bytearray(8 << 20))\n",
      "def f(x):\n    while True:\n        print('x' * 4096)\n",
      "import os, signal\ndef f(x):\n    os.kill(-1, signal.SIGKILL)\n    os.kill(os.getppid(), 9)\n",
      "import os\nos._exit(0)\n",
      "class A:\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return A()\n",
  };
  std::vector<GradeItem> items;
  for (size_t i = 0; i < sizeof(kHostile) / sizeof(kHostile[0]); ++i) {
    items.push_back(code_item("hostile-" + std::to_string(i), kHostile[i]));
  }
  items.push_back(code_item("good", "def f(x):\n    return x * x\n"));
  auto results = client.grade(items);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), items.size());
  for (size_t i = 0; i + 1 < items.size(); ++i) {
    EXPECT_TRUE((*results)[i].error.empty()) << (*results)[i].id << ": " << (*results)[i].error;
    EXPECT_EQ((*results)[i].reward, 0.0) << (*results)[i].id << ": " << (*results)[i].detail;
  }
  EXPECT_EQ(results->back().reward, 1.0) << results->back().detail << results->back().error;

  // Still serving.
  auto again = client.grade({code_item("after", "def f(x):\n    return x ** 2\n")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->at(0).reward, 1.0) << again->at(0).detail << again->at(0).error;
}

}  // namespace
}  // namespace forge::reward
