// The format rule: R1's <think>…</think><answer>…</answer>, exactly once each, configurable.
#include "reward/format_rule.h"

#include <gtest/gtest.h>

namespace forge::reward {
namespace {

double grade_format(const std::string& completion, const FormatOptions& options = {}) {
  auto rule = make_format_rule(options);
  EXPECT_TRUE(rule.ok()) << rule.status();
  GradeItem item;
  item.completion = completion;
  auto result = (*rule)->grade(item, std::chrono::steady_clock::time_point::max());
  EXPECT_TRUE(result.ok()) << result.status();
  return result->reward;
}

TEST(FormatRule, AcceptsOneThinkThenOneAnswer) {
  EXPECT_EQ(grade_format("<think>2+2 is 4</think><answer>4</answer>"), 1.0);
  EXPECT_EQ(grade_format("<think>\nlines\nof\nthought\n</think>\n\n<answer>\n4\n</answer>\n"), 1.0);
  EXPECT_EQ(grade_format("  <think></think> <answer></answer>  "), 1.0);
}

TEST(FormatRule, RejectsMissingReorderedRepeatedOrSurroundedBlocks) {
  EXPECT_EQ(grade_format("4"), 0.0);
  EXPECT_EQ(grade_format("<think>x</think>"), 0.0);
  EXPECT_EQ(grade_format("<answer>4</answer>"), 0.0);
  EXPECT_EQ(grade_format("<answer>4</answer><think>x</think>"), 0.0);
  EXPECT_EQ(grade_format("<think>a</think><think>b</think><answer>4</answer>"), 0.0);
  EXPECT_EQ(grade_format("<think>a</think><answer>4</answer><answer>5</answer>"), 0.0);
  EXPECT_EQ(grade_format("<think>a<think>b</think><answer>4</answer>"), 0.0);
  EXPECT_EQ(grade_format("Sure! <think>a</think><answer>4</answer>"), 0.0);
  EXPECT_EQ(grade_format("<think>a</think><answer>4</answer> and more"), 0.0);
  EXPECT_EQ(grade_format("<think>a</think>text between<answer>4</answer>"), 0.0);
}

TEST(FormatRule, DetailSaysWhatIsWrong) {
  auto rule = make_format_rule({});
  ASSERT_TRUE(rule.ok());
  GradeItem item;
  item.completion = "<think>a</think><think>b</think><answer>4</answer>";
  auto result = (*rule)->grade(item, std::chrono::steady_clock::time_point::max());
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->detail.find("<think> occurs 2 times"), std::string::npos) << result->detail;
}

TEST(FormatRule, PrefixCoversTemplatesThatOpenTheThinkBlock) {
  FormatOptions options;
  options.prefix = "<think>";
  EXPECT_EQ(grade_format("reasoning</think><answer>4</answer>", options), 1.0);
  EXPECT_EQ(grade_format("<think>reasoning</think><answer>4</answer>", options), 0.0);
}

TEST(FormatRule, PatternAndTagsAreConfigurable) {
  FormatOptions options;
  options.pattern = R"(.*\\boxed\{.+\}.*)";
  options.unique_tags = {"\\boxed{"};
  EXPECT_EQ(grade_format("so the answer is \\boxed{4}.", options), 1.0);
  EXPECT_EQ(grade_format("\\boxed{4} or \\boxed{5}", options), 0.0);
  EXPECT_EQ(grade_format("the answer is 4", options), 0.0);
}

TEST(FormatRule, InvalidPatternNamesTheKey) {
  FormatOptions options;
  options.pattern = "(<think>";
  auto rule = make_format_rule(options);
  ASSERT_FALSE(rule.ok());
  EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rule.status().message().find("reward.format.pattern"), std::string::npos)
      << rule.status();
}

TEST(FormatRule, LongCompletionsAreGradedWithoutTrouble) {
  // RE2 is linear-time: a megabyte of thought is no problem (std::regex would recurse per char).
  const std::string thought(1 << 20, 'x');
  EXPECT_EQ(grade_format("<think>" + thought + "</think><answer>4</answer>"), 1.0);
  EXPECT_EQ(grade_format("<think>" + thought + "</think><answer>4"), 0.0);
}

}  // namespace
}  // namespace forge::reward
