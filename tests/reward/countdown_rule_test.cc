// The `countdown` rule: a registered built-in that pays 1 for an <answer> expression using exactly
// the puzzle's numbers and making its target, and that the mix applies only to countdown items.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "reward/countdown/countdown.h"
#include "reward/grader.h"

namespace forge::reward {
namespace {

const auto kNoDeadline = std::chrono::steady_clock::time_point::max();

GradeItem countdown_item(const std::string& completion, const std::string& answer) {
  GradeItem item;
  item.rule = "countdown";
  item.completion = completion;
  item.answer = answer;
  return item;
}

TEST(CountdownRule, PaysExactlyTheRightExpressions) {
  auto grader = Grader::create(RewardConfig());
  ASSERT_TRUE(grader.ok()) << grader.status();
  const std::string gold = "22 from 3,5,7";
  struct Case {
    std::string completion;
    double reward;
    std::string detail;
  };
  const Case cases[] = {
      {"<think>15+7</think><answer>3*5+7</answer>", 1.0, "'3*5+7': correct"},
      {"<answer> 7 + 5*3 </answer>", 1.0, "'7 + 5*3': correct"},
      {"<answer>3*5+6</answer>", 0.0, "'3*5+6': uses 3,5,6, the puzzle gives 3,5,7"},
      {"<answer>3*5</answer>", 0.0, "'3*5': uses 3,5, the puzzle gives 3,5,7"},
      {"<answer>3+5+7</answer>", 0.0, "'3+5+7': makes 15, not 22"},
      {"<answer>(3+5)/7</answer>", 0.0, "'(3+5)/7': makes 8/7, not 22"},
      {"the answer is 3*5+7", 0.0, "no <answer>...</answer>"},
  };
  for (const Case& c : cases) {
    GradeOutcome out = (*grader)->grade_one(countdown_item(c.completion, gold), kNoDeadline);
    EXPECT_TRUE(out.error.empty()) << out.error;
    EXPECT_EQ(out.reward, c.reward) << c.completion;
    EXPECT_EQ(out.detail, c.detail) << c.completion;
  }
  // A gold that is not a puzzle is the item's fault, not a wrong answer.
  GradeOutcome bad = (*grader)->grade_one(countdown_item("<answer>1</answer>", "22"), kNoDeadline);
  EXPECT_EQ(bad.error_code, kErrorInvalidItem);
  EXPECT_EQ(bad.error.rfind("answer: countdown answer '22'", 0), 0u) << bad.error;
}

TEST(CountdownRule, TheMixAppliesItToCountdownItemsOnly) {
  RewardConfig config;
  config.weights = {{"countdown", 1.0}, {"math", 1.0}, {"format", 0.1}};
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();
  bool listed = false;
  for (const RuleInfo& info : (*grader)->rules()) listed = listed || info.name == "countdown";
  EXPECT_TRUE(listed);

  GradeItem puzzle = countdown_item("<think>x</think><answer>3*5+7</answer>", "22 from 3,5,7");
  puzzle.rule = "";
  GradeOutcome p = (*grader)->grade_one(puzzle, kNoDeadline);
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_EQ(p.components.count("countdown"), 1u);
  EXPECT_EQ(p.components["countdown"], 1.0);

  GradeItem math = countdown_item("<think>x</think><answer>\\boxed{12}</answer>", "12");
  math.rule = "";
  GradeOutcome m = (*grader)->grade_one(math, kNoDeadline);
  ASSERT_TRUE(m.error.empty()) << m.error;
  EXPECT_EQ(m.components.count("countdown"), 0u);
  EXPECT_EQ(m.components["math"], 1.0);
}

TEST(CountdownRule, ParsesPuzzlesAndAnswerTags) {
  auto p = countdown::parse_gold("24 from 4, 6,1,1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->target, 24);
  EXPECT_EQ(p->numbers, (std::vector<int64_t>{4, 6, 1, 1}));
  for (const char* bad : {"24", "24 from 4", "x from 1,2", "24 from 1,,2", ""}) {
    EXPECT_EQ(countdown::parse_gold(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(countdown::answer_tag("<answer>1</answer> <answer> 2 </answer>"), "2");
  EXPECT_FALSE(countdown::answer_tag("<answer>1").has_value());
}

}  // namespace
}  // namespace forge::reward
