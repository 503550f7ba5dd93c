// The calls a program runs ahead of its tests (harness.py's prefetch_calls): a job whose tests
// call the program with literal arguments sends them with the program, and the program runs them
// in one batch. The verdict must be exactly the one of calls made one at a time, in the tests'
// order, whatever the program keeps between calls and whichever calls the tests end up skipping.
// The harness's result says how many calls ran ahead and were used, and whether the job had to
// run again call by call ("calls_ahead", "rerun").
#include <chrono>

#include <gtest/gtest.h>

#include "reward/code/code_job.h"
#include "tests/reward/sandbox_test_util.h"

namespace forge::reward::code {
namespace {

using testing::humaneval_tests;

// A program that counts its calls: each answer is the argument and how many calls it has seen.
const char kCounter[] =
    "seen = []\n"
    "def count(x):\n"
    "    seen.append(x)\n"
    "    return [x, len(seen)]\n";

struct Graded {
  RuleResult rule;
  int calls_ahead = 0;
  bool rerun = false;
};

class CallsAheadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pool_ = testing::start_shared_pool(1); }
  static void TearDownTestSuite() {
    delete pool_;
    pool_ = nullptr;
  }
  static Graded grade(const std::string& program, const nlohmann::json& tests) {
    Graded g;
    if (!pool_) return g;  // start_shared_pool() failed the test already
    absl::StatusOr<CodeJob> job = make_code_job(program, tests);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return g;
    auto out = pool_->run(std::move(job->job), job->runs,
                          std::chrono::steady_clock::now() + std::chrono::seconds(60));
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok()) return g;
    auto rule = code_rule_result(out->result, out->deadline_limited);
    EXPECT_TRUE(rule.ok()) << rule.status();
    if (rule.ok()) g.rule = *rule;
    g.calls_ahead = out->result.value("calls_ahead", -1);
    g.rerun = out->result.value("rerun", true);
    return g;
  }
  static WorkerPool* pool_;
};
WorkerPool* CallsAheadTest::pool_ = nullptr;

TEST_F(CallsAheadTest, AStatefulProgramSeesTheCallsInTheTestsOrder) {
  Graded r = grade(kCounter, humaneval_tests("def check(candidate):\n"
                                             "    assert candidate('a') == ['a', 1]\n"
                                             "    assert candidate('b') == ['b', 2]\n"
                                             "    x = 'c'\n"
                                             "    assert candidate(x) == ['c', 3]\n",
                                             "count"));
  EXPECT_EQ(r.rule.detail, "3/3 tests passed (1.00)");
  EXPECT_EQ(r.calls_ahead, 2);  // the third argument is a variable: that call is made live
  EXPECT_FALSE(r.rerun);
}

// The first assert fails before its call is made (a name the test never defined), so the program
// must see only the later calls. Run ahead, it saw 'a' first: the tests' first call ('b') is not
// the first call it ran, and the job runs again call by call. The last call is live in both runs,
// so no call ahead is left unused: only the mismatch tells.
TEST_F(CallsAheadTest, ACallTheTestsNeverMakeIsNotSeenByTheProgram) {
  Graded he = grade(kCounter, humaneval_tests("def check(candidate):\n"
                                              "    assert undefined_name == candidate('a')\n"
                                              "    assert candidate('b') == ['b', 1]\n"
                                              "    x = 'c'\n"
                                              "    assert candidate(x) == ['c', 2]\n",
                                              "count"));
  EXPECT_EQ(he.rule.detail,
            "2/3 tests passed (0.67); test 1: NameError: name 'undefined_name' is not defined");
  EXPECT_TRUE(he.rerun);
  EXPECT_EQ(he.calls_ahead, 0);
  // The same with asserts, where the calls ahead are the program's own names (an unknown name
  // could be one, so here a builtin raises first).
  nlohmann::json asserts = {{"kind", "asserts"},
                            {"asserts",
                             {"assert count(1) == [1, 1]", "assert int('x') == count(2)",
                              "assert count(3) == [3, 2]"}}};
  Graded as = grade(kCounter, asserts);
  EXPECT_EQ(as.rule.detail,
            "2/3 tests passed (0.67); test 2: ValueError: invalid literal for int() with base 10: "
            "'x'");
  EXPECT_TRUE(as.rerun);
}

// A call that returns a program object stops the batch there: the tests use the object (here, a
// generator that logs its steps) before the program runs the next call.
TEST_F(CallsAheadTest, AProgramObjectEndsTheBatch) {
  const char kLog[] =
      "log = []\n"
      "def steps(n):\n"
      "    log.append('made')\n"
      "    def run():\n"
      "        for i in range(n):\n"
      "            log.append(i)\n"
      "            yield i\n"
      "    return run()\n"
      "def history():\n"
      "    return list(log)\n";
  nlohmann::json tests = {{"kind", "asserts"},
                          {"asserts",
                           {"assert list(steps(2)) == [0, 1]",
                            "assert history() == ['made', 0, 1]"}}};
  Graded r = grade(kLog, tests);
  EXPECT_EQ(r.rule.reward, 1.0) << r.rule.detail;
  EXPECT_FALSE(r.rerun);        // the program stopped at the generator: nothing ran early
  EXPECT_EQ(r.calls_ahead, 1);  // steps(2); history() was called live
}

// A program that dies in its second call keeps the first call's unit and fails the rest, as it
// would one call at a time.
TEST_F(CallsAheadTest, AProgramThatDiesPartWayKeepsTheUnitsBeforeIt) {
  const char kDies[] =
      "import os\n"
      "def f(x):\n"
      "    if x == 2:\n"
      "        os._exit(3)\n"
      "    return x\n";
  Graded r = grade(kDies, humaneval_tests("def check(candidate):\n"
                                          "    assert candidate(1) == 1\n"
                                          "    assert candidate(2) == 2\n"
                                          "    assert candidate(3) == 3\n",
                                          "f"));
  EXPECT_EQ(r.rule.reward, 0.0);
  EXPECT_NE(r.rule.detail.find("1/3 tests passed"), std::string::npos) << r.rule.detail;
  EXPECT_NE(r.rule.detail.find("status 3"), std::string::npos) << r.rule.detail;
  EXPECT_FALSE(r.rerun);
}

}  // namespace
}  // namespace forge::reward::code
