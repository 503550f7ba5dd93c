// The code rule end to end: real bubblewrap sandboxes running real Python programs.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "reward/code/code_rule.h"
#include "reward/grade_error.h"
#include "reward/grader.h"
#include "tests/reward/sandbox_test_util.h"

namespace forge::reward::code {
namespace {

using testing::fast_config;
using testing::grade_with;
using testing::humaneval_tests;
using testing::one_worker_pool;
using testing::stdio_tests;
using Clock = std::chrono::steady_clock;

const char kAddTest[] =
    "def check(candidate):\n"
    "    assert candidate(1, 2) == 3\n"
    "    assert candidate(-1, 1) == 0\n"
    "    assert candidate(10, 5) == 15\n"
    "    assert abs(candidate(0.5, 0.25) - 0.75) < 1e-9\n";

class CodeRuleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    CodeRuleOptions o;
    o.sandbox = fast_config();
    o.workers = 2;
    auto rule = make_code_rule(o);
    ASSERT_TRUE(rule.ok()) << rule.status();
    rule_ = rule->release();
  }
  static void TearDownTestSuite() {
    delete rule_;
    rule_ = nullptr;
  }
  static absl::StatusOr<RuleResult> grade(const std::string& completion,
                                          const nlohmann::json& tests) {
    GradeItem item;
    item.rule = "code";
    item.completion = completion;
    item.tests = tests;
    return rule_->grade(item, Clock::now() + std::chrono::seconds(60));
  }
  static RewardRule* rule_;
};
RewardRule* CodeRuleTest::rule_ = nullptr;

TEST_F(CodeRuleTest, HumanEvalPassAndFail) {
  EXPECT_EQ(rule_->name(), "code");
  auto ok = grade("def add(a, b):\n    return a + b\n", humaneval_tests(kAddTest, "add"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->reward, 1.0) << ok->detail;
  EXPECT_EQ(ok->detail, "4/4 tests passed (1.00)");

  auto wrong = grade("def add(a, b):\n    return a + b if a > 0 else -99\n",
                     humaneval_tests(kAddTest, "add"));
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(wrong->reward, 0.0);
  EXPECT_EQ(wrong->detail, "3/4 tests passed (0.75); test 2: AssertionError") << wrong->detail;
}

TEST_F(CodeRuleTest, ProgramInAFencedBlock) {
  auto r = grade("<think>easy</think>\n```python\ndef add(a, b):\n    return a + b\n```\n",
                 humaneval_tests(kAddTest, "add"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 1.0) << r->detail;
}

TEST_F(CodeRuleTest, AssertsWithSetupAndFraction) {
  nlohmann::json tests = {{"kind", "asserts"},
                          {"setup", "import math"},
                          {"asserts",
                           {"assert area(1) == math.pi",
                            "assert math.isclose(area(2), 4 * math.pi)", "assert area(0) == 1"}}};
  auto r = grade("import math\ndef area(r):\n    return math.pi * r * r\n", tests);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(r->detail, "2/3 tests passed (0.67); test 3: AssertionError") << r->detail;
}

TEST_F(CodeRuleTest, ArgumentsMutatedInPlaceAreSeenByTheTest) {
  nlohmann::json tests = {
      {"kind", "asserts"},
      {"asserts", {"xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]"}}};
  auto r = grade("def sort_in_place(xs):\n    xs.sort()\n", tests);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 1.0) << r->detail;
}

TEST_F(CodeRuleTest, ObjectsCrossAsHandlesAndGeneratorsIterate) {
  nlohmann::json tests = {{"kind", "asserts"},
                          {"asserts",
                           {"p = Pair(1, 5)\nassert longest([p, Pair(2, 3)]) == 5",
                            "assert list(evens(5)) == [0, 2, 4]", "assert evens(5) != [0, 2, 4]",
                            "assert Pair(1, 2).total() == 3"}}};
  auto r = grade(
      "class Pair:\n"
      "    def __init__(self, a, b):\n        self.a, self.b = a, b\n"
      "    def total(self):\n        return self.a + self.b\n"
      "def longest(ps):\n    return max(p.b for p in ps)\n"
      "def evens(n):\n    return (i for i in range(n) if i % 2 == 0)\n",
      tests);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 1.0) << r->detail;
}

TEST_F(CodeRuleTest, ExceptionsKeepTheirBuiltinType) {
  nlohmann::json tests = {{"kind", "asserts"},
                          {"asserts",
                           {"try:\n    parse('x')\n    assert False\nexcept ValueError as e:\n    "
                            "assert 'bad' in str(e)",
                            "assert parse('7') == 7"}}};
  auto r = grade(
      "def parse(s):\n    if not s.isdigit():\n        raise ValueError('bad: ' + s)\n"
      "    return int(s)\n",
      tests);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 1.0) << r->detail;
  // StopIteration does not keep its type: it would end the test's map() as if it were done.
  nlohmann::json map_test = {{"kind", "asserts"},
                             {"asserts", {"assert all(map(is_even, [2, 3, 4]))"}}};
  auto stop = grade("def is_even(x):\n    raise StopIteration\n", map_test);
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(stop->reward, 0.0) << stop->detail;
}

TEST_F(CodeRuleTest, StdioWithWhitespaceNormalisation) {
  nlohmann::json tests = {{"kind", "stdio"},
                          {"cases",
                           {{{"input", "1 2\n"}, {"output", "3\n"}},
                            {{"input", "10   20"}, {"output", "30"}},
                            {{"input", "2 2\n"}, {"output", "  4  \r\n\n\n"}},
                            {{"input", "5 5\n"}, {"output", "11\n"}}}}};
  auto r = grade("a, b = map(int, input().split())\nprint(a + b)\nprint()\n", tests);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 0.0);
  EXPECT_EQ(r->detail.rfind("3/4 tests passed (0.75); case 4: wrong output", 0), 0u) << r->detail;

  auto crash = grade("print(3)\nraise ValueError('late')\n", stdio_tests("", "3"));
  ASSERT_TRUE(crash.ok()) << crash.status();
  EXPECT_EQ(crash->reward, 0.0);
  EXPECT_NE(crash->detail.find("ValueError: late"), std::string::npos) << crash->detail;

  auto exit0 =
      grade("import sys\nprint(int(sys.stdin.read()) * 2)\nsys.exit(0)\n", stdio_tests("21", "42"));
  ASSERT_TRUE(exit0.ok()) << exit0.status();
  EXPECT_EQ(exit0->reward, 1.0) << exit0->detail;
}

TEST_F(CodeRuleTest, LoadErrorsAndMissingEntryPoint) {
  auto syntax = grade("def add(a, b)\n    return a + b\n", humaneval_tests(kAddTest, "add"));
  ASSERT_TRUE(syntax.ok()) << syntax.status();
  EXPECT_EQ(syntax->reward, 0.0);
  EXPECT_NE(syntax->detail.find("load error"), std::string::npos) << syntax->detail;

  auto missing = grade("def plus(a, b):\n    return a + b\n", humaneval_tests(kAddTest, "add"));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->reward, 0.0);
  EXPECT_NE(missing->detail.find("no function add"), std::string::npos) << missing->detail;
}

TEST_F(CodeRuleTest, BrokenTestsAreInvalidArgument) {
  auto no_check = grade("def f(): pass", humaneval_tests("def test(c):\n    pass\n", "f"));
  EXPECT_EQ(no_check.status().code(), absl::StatusCode::kInvalidArgument) << no_check.status();
  auto syntax = grade("def f(): pass", humaneval_tests("def check(c)\n    pass\n", "f"));
  EXPECT_EQ(syntax.status().code(), absl::StatusCode::kInvalidArgument) << syntax.status();
  auto bad_kind = grade("def f(): pass", {{"kind", "junit"}});
  EXPECT_EQ(bad_kind.status().code(), absl::StatusCode::kInvalidArgument);
  // The cheap structural check catches malformed tests before anything is queued.
  GradeItem item;
  item.completion = "def f(): pass";
  item.tests = {{"kind", "stdio"}, {"cases", {{{"input", "1"}}}}};
  absl::Status check = rule_->check(item);
  EXPECT_EQ(check.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(check.message().rfind("tests.cases[0].output:", 0), 0u) << check;
  item.tests = humaneval_tests("def check(c): pass", "f");
  EXPECT_TRUE(rule_->check(item).ok());
  EXPECT_TRUE(rule_->applies_to(item));
}

TEST_F(CodeRuleTest, CallerDeadlineIsDeadlineExceeded) {
  GradeItem item;
  item.completion = "import time\ndef add(a, b):\n    time.sleep(30)\n";
  item.tests = humaneval_tests(kAddTest, "add");
  auto start = Clock::now();
  auto r = rule_->grade(item, start + std::chrono::milliseconds(1500));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST_F(CodeRuleTest, ConcurrentGradesFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> rewarded{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        bool right = (t + i) % 2 == 0;
        auto r = grade(
            right ? "def add(a, b):\n    return a + b\n" : "def add(a, b):\n    return a - b\n",
            humaneval_tests(kAddTest, "add"));
        if (r.ok() && r->reward == (right ? 1.0 : 0.0)) rewarded.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(rewarded.load(), 18);
}

// If a worker stops answering (here: test code that never returns, so the harness's own clock
// never runs), the host's backstop kills the sandbox, reports a timeout, and a new worker takes
// over.
TEST(CodeSandbox, HostBackstopKillsAStuckWorker) {
  SandboxConfig config = fast_config();
  config.wall_seconds = 1;
  auto pool = one_worker_pool(config);
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto start = Clock::now();
  auto stuck =
      testing::grade_with(**pool, "def f():\n    return 1\n",
                          humaneval_tests("def check(c):\n    while True:\n        pass\n", "f"));
  ASSERT_TRUE(stuck.ok()) << stuck.status();
  EXPECT_EQ(stuck->reward, 0.0);
  EXPECT_NE(stuck->detail.find("no answer from the sandbox"), std::string::npos) << stuck->detail;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  auto good = testing::grade_with(**pool, "def add(a, b):\n    return a + b\n",
                                  humaneval_tests(kAddTest, "add"));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->reward, 1.0) << good->detail;
  EXPECT_EQ((*pool)->started(), 2);
  ASSERT_TRUE((*pool)->wait_until_ready(1, std::chrono::seconds(30)));
  auto left = testing::leftovers(config, (*pool)->worker_pids(), "");
  EXPECT_TRUE(left.empty()) << testing::describe(left);
}

TEST(CodeSandbox, FreshSandboxPerProgramMode) {
  CodeRuleOptions o;
  o.sandbox = fast_config();
  o.workers = 2;
  o.reuse_workers = false;
  auto rule = make_code_rule(o);
  ASSERT_TRUE(rule.ok()) << rule.status();
  GradeItem item;
  item.completion = "def add(a, b):\n    return a + b\n";
  item.tests = humaneval_tests(kAddTest, "add");
  for (int i = 0; i < 3; ++i) {
    auto r = (*rule)->grade(item, Clock::now() + std::chrono::seconds(60));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->reward, 1.0) << r->detail;
  }
}

TEST(CodeSandbox, UnstartableSandboxIsUnavailableNotZero) {
  SandboxConfig sandbox = fast_config();
  sandbox.python_path = "/bin/false";  // exists, but the worker exits at once
  auto pool = one_worker_pool(sandbox);
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto r = testing::grade_with(**pool, "print(1)", stdio_tests("", "1"), std::chrono::seconds(30));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(error_code_of(r.status()), kErrorSandboxUnavailable);

  // Through the grader, the item carries the error, not a reward of 0 for a wrong program.
  RewardConfig config;
  config.code = {{"python", "/bin/false"}, {"workers", 1}};
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();
  GradeItem item;
  item.rule = "code";
  item.completion = "print(1)";
  item.tests = stdio_tests("", "1");
  GradeOutcome outcome = (*grader)->grade_one(item, Clock::now() + std::chrono::seconds(30));
  EXPECT_EQ(outcome.error_code, kErrorSandboxUnavailable) << outcome.error;
  EXPECT_NE(outcome.error.find("code: sandbox workers do not start"), std::string::npos)
      << outcome.error;
}

TEST(CodeSandbox, AWorkerThatDiesDuringAJobIsSandboxCrashed) {
  auto pool = one_worker_pool(fast_config());
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->wait_until_ready(1, std::chrono::seconds(30)));
  const std::vector<pid_t> pids = (*pool)->worker_pids();
  ASSERT_EQ(pids.size(), 1u);
  auto graded = std::async(std::launch::async, [&] {
    return testing::grade_with(**pool, "import time\ntime.sleep(20)\n", stdio_tests("", "1"),
                               std::chrono::seconds(30));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the job is running
  ASSERT_EQ(kill(pids[0], SIGKILL), 0);
  auto r = graded.get();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(error_code_of(r.status()), kErrorSandboxCrashed) << r.status();
}

}  // namespace
}  // namespace forge::reward::code
