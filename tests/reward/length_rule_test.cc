// The length rule: DAPO's soft overlong punishment, checked against the closed form.
#include "reward/length_rule.h"

#include <gtest/gtest.h>

namespace forge::reward {
namespace {

constexpr double kTol = 1e-12;

TEST(OverlongPenalty, MatchesDapoEquation13) {
  // DAPO's setting: max 20480, cache 4096 -> free up to 16384.
  EXPECT_EQ(overlong_penalty(0, 20480, 4096), 0.0);
  EXPECT_EQ(overlong_penalty(16384, 20480, 4096), 0.0);
  EXPECT_NEAR(overlong_penalty(16385, 20480, 4096), -1.0 / 4096, kTol);
  EXPECT_NEAR(overlong_penalty(18432, 20480, 4096), -0.5, kTol);
  EXPECT_NEAR(overlong_penalty(20480, 20480, 4096), -1.0, kTol);
  EXPECT_EQ(overlong_penalty(20481, 20480, 4096), -1.0);
  EXPECT_EQ(overlong_penalty(1e9, 20480, 4096), -1.0);
}

RuleResult grade_length(const LengthOptions& options, const std::string& completion, int tokens) {
  auto rule = make_length_rule(options);
  GradeItem item;
  item.completion = completion;
  item.completion_tokens = tokens;
  auto result = rule->grade(item, std::chrono::steady_clock::time_point::max());
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : RuleResult{};
}

TEST(LengthRule, UsesTokenCountWhenGiven) {
  LengthOptions options;
  options.max_len = 100;
  options.cache_len = 20;
  // The text is short but the token count says 90: half-way into the cache window.
  EXPECT_NEAR(grade_length(options, "short", 90).reward, -0.5, kTol);
  EXPECT_EQ(grade_length(options, std::string(500, 'x'), 80).reward, 0.0);
  EXPECT_EQ(grade_length(options, "", 101).reward, -1.0);
}

TEST(LengthRule, FallsBackToBytesPerToken) {
  LengthOptions options;
  options.max_len = 100;
  options.cache_len = 20;
  EXPECT_NEAR(grade_length(options, std::string(90, 'x'), -1).reward, -0.5, kTol);
  options.bytes_per_token = 4.0;  // 360 bytes ~ 90 tokens
  const RuleResult r = grade_length(options, std::string(360, 'x'), -1);
  EXPECT_NEAR(r.reward, -0.5, kTol);
  EXPECT_NE(r.detail.find("estimated"), std::string::npos) << r.detail;
}

TEST(LengthRule, CacheLenDefaultsToAFifthOfMaxLen) {
  LengthOptions options;
  options.max_len = 100;  // cache 20: free up to 80
  EXPECT_EQ(grade_length(options, "", 80).reward, 0.0);
  EXPECT_NEAR(grade_length(options, "", 90).reward, -0.5, kTol);
}

TEST(LengthRule, RangeIsMinusOneToZero) {
  auto rule = make_length_rule({});
  EXPECT_EQ(rule->range().min, -1.0);
  EXPECT_EQ(rule->range().max, 0.0);
}

TEST(LengthRule, UnsetMaxLenIsAnErrorNamingTheKey) {
  auto rule = make_length_rule({});
  GradeItem item;
  item.completion_tokens = 5;
  auto result = rule->grade(item, std::chrono::steady_clock::time_point::max());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("reward.length.max_len"), std::string::npos);
}

}  // namespace
}  // namespace forge::reward
