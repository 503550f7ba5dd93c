// The code rule's pure parts: program extraction, test validation, verdict -> reward, options.
#include "reward/code/code_job.h"

#include <gtest/gtest.h>

#include "reward/code/code_rule.h"

namespace forge::reward::code {
namespace {

TEST(ExtractProgram, WholeCompletionWithoutFences) {
  EXPECT_EQ(extract_program("def f():\n    return 1\n"), "def f():\n    return 1\n");
}

TEST(ExtractProgram, LastPythonBlockAfterThinking) {
  std::string c =
      "<think>try ```python\nx = 1\n``` no</think>Here:\n```python\ndef f():\n    return 2\n```\n"
      "and a shell line:\n```bash\nls\n```\n";
  EXPECT_EQ(extract_program(c), "def f():\n    return 2\n");
}

TEST(ExtractProgram, AnswerTagsAndUntaggedFence) {
  EXPECT_EQ(extract_program("<answer>\n```\nprint(3)\n```\n</answer>"), "print(3)\n");
  EXPECT_EQ(extract_program("<answer>print(4)</answer>"), "print(4)");
}

TEST(ExtractProgram, TruncatedFenceRunsToTheEnd) {
  EXPECT_EQ(extract_program("```py\ndef f():\n    pass"), "def f():\n    pass\n");
}

TEST(MakeCodeJob, HumanEval) {
  auto job =
      make_code_job("def f(): pass",
                    {{"kind", "humaneval"}, {"test", "def check(c): pass"}, {"entry_point", "f"}});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->job["kind"], "humaneval");
  EXPECT_EQ(job->job["program"], "def f(): pass");
  EXPECT_EQ(job->job["entry_point"], "f");
  EXPECT_EQ(job->runs, 1);
}

TEST(MakeCodeJob, StdioCountsRuns) {
  auto job = make_code_job(
      "print(1)",
      {{"kind", "stdio"},
       {"cases", {{{"input", ""}, {"output", "1"}}, {{"input", "x"}, {"output", "1"}}}}});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->runs, 2);
}

TEST(MakeCodeJob, ErrorsNameTheField) {
  struct Case {
    nlohmann::json tests;
    std::string field;
  };
  const Case cases[] = {
      {nlohmann::json::array(), "tests"},
      {{{"kind", 3}}, "tests.kind"},
      {{{"kind", "pytest"}}, "tests.kind"},
      {{{"kind", "humaneval"}, {"entry_point", "f"}}, "tests.test"},
      {{{"kind", "humaneval"}, {"test", "x"}, {"entry_point", "1f"}}, "tests.entry_point"},
      {{{"kind", "asserts"}, {"asserts", nlohmann::json::array()}}, "tests.asserts"},
      {{{"kind", "asserts"}, {"asserts", {"assert 1", 2}}}, "tests.asserts[1]"},
      {{{"kind", "asserts"}, {"asserts", {"assert 1"}}, {"setup", 1}}, "tests.setup"},
      {{{"kind", "stdio"}, {"cases", {{{"input", "1"}}}}}, "tests.cases[0].output"},
      {{{"kind", "stdio"}, {"cases", {{{"input", "1"}, {"output", "2"}}, 5}}}, "tests.cases[1]"},
  };
  for (const Case& c : cases) {
    auto job = make_code_job("x", c.tests);
    ASSERT_FALSE(job.ok()) << c.tests;
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(job.status().message().rfind(c.field + ":", 0), 0u)
        << job.status() << " for " << c.tests;
  }
}

TEST(CodeRuleResult, RewardOnlyWhenEverythingPassed) {
  auto pass = code_rule_result({{"status", "passed"}, {"passed", 3}, {"total", 3}}, false);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->reward, 1.0);
  EXPECT_EQ(pass->detail, "3/3 tests passed (1.00)");

  auto fail = code_rule_result(
      {{"status", "failed"}, {"passed", 2}, {"total", 5}, {"detail", "test 3: AssertionError"}},
      false);
  ASSERT_TRUE(fail.ok());
  EXPECT_EQ(fail->reward, 0.0);
  EXPECT_EQ(fail->detail, "2/5 tests passed (0.40); test 3: AssertionError");

  // "passed" with a count that does not add up is still not a pass.
  auto odd = code_rule_result({{"status", "passed"}, {"passed", 2}, {"total", 3}}, false);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->reward, 0.0);

  auto timeout = code_rule_result(
      {{"status", "timeout"}, {"passed", 1}, {"total", 2}, {"detail", "time limit (4s wall)"}},
      false);
  ASSERT_TRUE(timeout.ok());
  EXPECT_EQ(timeout->reward, 0.0);
  EXPECT_EQ(timeout->detail, "1/2 tests passed (0.50); timeout: time limit (4s wall)");
}

TEST(CodeRuleResult, ErrorsAreNotZeroRewards) {
  EXPECT_EQ(code_rule_result({{"status", "bad_test"}, {"detail", "x"}}, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code_rule_result({{"status", "sandbox_error"}}, false).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(code_rule_result({{"status", "timeout"}}, true).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(code_rule_result({{"status", "weird"}}, false).status().code(),
            absl::StatusCode::kInternal);
}

TEST(CodeRuleOptions, FromJson) {
  auto o = code_rule_options_from_json({{"workers", 3},
                                        {"wall_seconds", 2.5},
                                        {"memory_mb", 300},
                                        {"max_output_kb", 16},
                                        {"reuse_workers", false},
                                        {"extra_ro_binds", {"/opt/py"}}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->workers, 3);
  EXPECT_FALSE(o->reuse_workers);
  EXPECT_EQ(o->sandbox.wall_seconds, 2.5);
  EXPECT_EQ(o->sandbox.memory_bytes, 300ll << 20);
  EXPECT_EQ(o->sandbox.max_output_bytes, 16ll << 10);
  EXPECT_EQ(o->sandbox.extra_ro_binds, std::vector<std::string>{"/opt/py"});

  auto unknown = code_rule_options_from_json({{"wal_seconds", 1}});
  EXPECT_NE(unknown.status().message().find("wal_seconds"), std::string_view::npos);
  auto type = code_rule_options_from_json({{"memory_mb", "lots"}});
  EXPECT_NE(type.status().message().find("memory_mb"), std::string_view::npos);
}

TEST(CodeRuleOptions, ValidationNamesTheField) {
  CodeRuleOptions o;
  o.sandbox.wall_seconds = 0;
  auto rule = make_code_rule(o);
  ASSERT_FALSE(rule.ok());
  EXPECT_NE(rule.status().message().find("wall_seconds"), std::string_view::npos);
  o = CodeRuleOptions{};
  o.sandbox.sandbox_uid = 0;
  EXPECT_NE(make_code_rule(o).status().message().find("sandbox_uid"), std::string_view::npos);
  o = CodeRuleOptions{};
  o.sandbox.bwrap_path = "/nonexistent/bwrap";
  EXPECT_NE(make_code_rule(o).status().message().find("/nonexistent/bwrap"),
            std::string_view::npos);
}

}  // namespace
}  // namespace forge::reward::code
