// The registry and the weighted mix: rule names, weights, components, skipping rules that do not
// apply, range checks, and the math/accuracy wrappers over the math grader.
#include "reward/reward_mix.h"

#include <gtest/gtest.h>

#include "reward/grader.h"
#include "reward/rule_registry.h"
#include "test_rules.h"

namespace forge::reward {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kNoDeadline = Clock::time_point::max();

const char* const kGood = "<think>7 * 6 = 42</think><answer>\\boxed{42}</answer>";
const char* const kWrongAnswer = "<think>7 * 6 = 41</think><answer>\\boxed{41}</answer>";
const char* const kUnformatted = "7 * 6 = 42, so the answer is \\boxed{42}.";

GradeItem math_item(const std::string& completion, const std::string& answer = "42") {
  GradeItem item;
  item.id = "q";
  item.completion = completion;
  item.answer = answer;
  return item;
}

std::unique_ptr<RuleRegistry> registry_for(const RewardConfig& config) {
  auto registry = RuleRegistry::create(config);
  EXPECT_TRUE(registry.ok()) << registry.status();
  return std::move(registry).value();
}

TEST(RuleRegistry, HasTheBuiltInRules) {
  auto registry = registry_for({});
  for (const char* name : {"accuracy", "code", "countdown", "format", "length", "math"}) {
    EXPECT_NE(registry->find(name), nullptr) << name;
  }
  EXPECT_EQ(registry->find("mth"), nullptr);
  EXPECT_EQ(registry->names(), "accuracy, code, countdown, format, length, math");
}

TEST(RuleRegistry, RefusesADuplicateName) {
  auto registry = registry_for({});
  absl::Status status = registry->add(std::make_unique<testing::FixedRule>("format", 1.0));
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(status.message().find("format"), std::string::npos);
}

TEST(RewardMix, WeightedSumWithUnweightedComponents) {
  auto registry = registry_for({});
  auto mix = RewardMix::create(*registry, {{"math", 1.0}, {"format", 0.1}});
  ASSERT_TRUE(mix.ok()) << mix.status();

  auto good = mix->grade(math_item(kGood), kNoDeadline);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_DOUBLE_EQ(good->reward, 1.1);
  EXPECT_EQ(good->components.at("math"), 1.0);
  EXPECT_EQ(good->components.at("format"), 1.0);
  EXPECT_NE(good->detail.find("math: "), std::string::npos) << good->detail;
  EXPECT_NE(good->detail.find("format: "), std::string::npos) << good->detail;

  auto wrong = mix->grade(math_item(kWrongAnswer), kNoDeadline);
  ASSERT_TRUE(wrong.ok());
  EXPECT_DOUBLE_EQ(wrong->reward, 0.1);
  EXPECT_EQ(wrong->components.at("math"), 0.0);

  auto unformatted = mix->grade(math_item(kUnformatted), kNoDeadline);
  ASSERT_TRUE(unformatted.ok());
  EXPECT_DOUBLE_EQ(unformatted->reward, 1.0);
  EXPECT_EQ(unformatted->components.at("format"), 0.0);
}

TEST(RewardMix, OtherWeightsChangeTheSum) {
  auto registry = registry_for({});
  auto mix = RewardMix::create(*registry, {{"math", 0.5}, {"format", 2.0}});
  ASSERT_TRUE(mix.ok());
  auto r = mix->grade(math_item(kWrongAnswer), kNoDeadline);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->reward, 2.0);
}

TEST(RewardMix, LengthPenaltyIsSubtracted) {
  RewardConfig config;
  config.length.max_len = 100;
  config.length.cache_len = 20;
  auto registry = registry_for(config);
  auto mix = RewardMix::create(*registry, {{"math", 1.0}, {"length", 1.0}});
  ASSERT_TRUE(mix.ok());
  GradeItem item = math_item(kGood);
  item.completion_tokens = 90;
  auto r = mix->grade(item, kNoDeadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->reward, 0.5);
  EXPECT_DOUBLE_EQ(r->components.at("length"), -0.5);
}

TEST(RewardMix, SkipsRulesThatDoNotApply) {
  auto registry = registry_for({});
  auto mix = RewardMix::create(*registry, {{"math", 1.0}, {"format", 0.1}});
  ASSERT_TRUE(mix.ok());
  GradeItem item;  // no answer: math does not apply, format still does
  item.completion = kGood;
  auto r = mix->grade(item, kNoDeadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->components.count("math"), 0u);
  EXPECT_DOUBLE_EQ(r->reward, 0.1);

  auto only_math = RewardMix::create(*registry, {{"math", 1.0}});
  ASSERT_TRUE(only_math.ok());
  EXPECT_EQ(only_math->check(item).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(only_math->grade(item, kNoDeadline).ok());
}

TEST(RewardMix, UnknownRuleNamesTheWeightKey) {
  auto registry = registry_for({});
  auto mix = RewardMix::create(*registry, {{"mth", 1.0}});
  ASSERT_FALSE(mix.ok());
  EXPECT_NE(mix.status().message().find("reward.weights.mth: unknown rule"), std::string::npos)
      << mix.status();
  EXPECT_NE(mix.status().message().find("math"), std::string::npos) << mix.status();
}

TEST(RewardMix, RewardOutsideTheRuleRangeIsAnError) {
  auto registry = registry_for({});
  ASSERT_TRUE(registry->add(std::make_unique<testing::FixedRule>("too_big", 1.5)).ok());
  auto mix = RewardMix::create(*registry, {{"too_big", 1.0}});
  ASSERT_TRUE(mix.ok());
  auto r = mix->grade(math_item(kGood), kNoDeadline);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too_big: returned reward 1.5 outside its range"),
            std::string::npos)
      << r.status();
}

TEST(MathRule, GradesCompletionsAndPredictions) {
  auto registry = registry_for({});
  const RewardRule* math = registry->find("math");
  ASSERT_NE(math, nullptr);
  auto right = math->grade(math_item("so \\boxed{\\frac{1}{2}}", "0.5"), kNoDeadline);
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_EQ(right->reward, 1.0) << right->detail;

  GradeItem prediction = math_item("", "\\frac{1}{2}");
  prediction.prediction = "0.5";
  auto predicted = math->grade(prediction, kNoDeadline);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  EXPECT_EQ(predicted->reward, 1.0) << predicted->detail;

  prediction.prediction = "0.6";
  auto wrong = math->grade(prediction, kNoDeadline);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->reward, 0.0);

  EXPECT_EQ(math->check(math_item(kGood, "")).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MathRule, TolerancesComeFromTheConfig) {
  // 1.4150 vs sqrt(2) = 1.41421... is 5.6e-4 apart relatively and not sqrt(2) rounded: right at
  // rel_tolerance 1e-2, wrong at the default. (Exact rationals are compared exactly.)
  RewardConfig loose;
  loose.math.rel_tolerance = 1e-2;
  auto registry = registry_for(loose);
  auto r = registry->find("math")->grade(math_item("\\boxed{1.4150}", "\\sqrt{2}"), kNoDeadline);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reward, 1.0) << r->detail;

  auto strict = registry_for({});
  auto s = strict->find("math")->grade(math_item("\\boxed{1.4150}", "\\sqrt{2}"), kNoDeadline);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->reward, 0.0) << s->detail;

  // float_rounding: 1.4142 is sqrt(2) at 4 decimal places, not at the default 6.
  RewardConfig four_places;
  four_places.math.float_rounding = 4;
  auto coarse = registry_for(four_places);
  auto c = coarse->find("math")->grade(math_item("\\boxed{1.4142}", "\\sqrt{2}"), kNoDeadline);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->reward, 1.0) << c->detail;
  auto d = strict->find("math")->grade(math_item("\\boxed{1.4142}", "\\sqrt{2}"), kNoDeadline);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->reward, 0.0) << d->detail;
}

TEST(AccuracyRule, PicksMathForAnswersAndNeedsAReference) {
  auto registry = registry_for({});
  const RewardRule* accuracy = registry->find("accuracy");
  ASSERT_NE(accuracy, nullptr);
  auto r = accuracy->grade(math_item(kGood), kNoDeadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reward, 1.0);
  EXPECT_EQ(r->detail.rfind("math: ", 0), 0u) << r->detail;

  GradeItem bare;
  bare.completion = kGood;
  absl::Status status = accuracy->check(bare);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(accuracy->applies_to(bare));
}

TEST(Grader, ItemRuleSelectsOneRuleAndEmptyRuleTheMix) {
  RewardConfig config;
  config.concurrency = 2;
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();

  GradeItem item = math_item(kUnformatted);
  GradeOutcome mixed = (*grader)->grade_one(item, kNoDeadline);
  EXPECT_TRUE(mixed.error.empty()) << mixed.error;
  EXPECT_DOUBLE_EQ(mixed.reward, 1.0);
  EXPECT_EQ(mixed.components.size(), 2u);

  item.rule = "format";
  GradeOutcome format = (*grader)->grade_one(item, kNoDeadline);
  EXPECT_EQ(format.reward, 0.0);
  EXPECT_EQ(format.components.size(), 1u);
  EXPECT_EQ(format.components.count("format"), 1u);

  item.rule = "mth";
  EXPECT_EQ((*grader)->check(item).message().substr(0, 28), "rule: unknown rule 'mth' (kn");
  GradeOutcome unknown = (*grader)->grade_one(item, kNoDeadline);
  EXPECT_NE(unknown.error.find("unknown rule 'mth'"), std::string::npos) << unknown.error;
}

TEST(Grader, AThrowingRuleBecomesAnErrorOutcome) {
  auto grader = testing::make_test_grader({}, std::make_shared<testing::Gate>());
  GradeItem item = math_item(kGood);
  item.rule = "thrower";
  GradeOutcome out = grader->grade_one(item, kNoDeadline);
  EXPECT_NE(out.error.find("boom"), std::string::npos) << out.error;
  EXPECT_EQ(out.reward, 0.0);
}

TEST(Grader, ListsRulesWithWeightsAndRanges) {
  RewardConfig config;
  config.weights = {{"math", 1.0}, {"format", 0.1}, {"length", 0.5}};
  config.length.max_len = 64;
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();
  std::map<std::string, RuleInfo> by_name;
  for (const RuleInfo& info : (*grader)->rules()) by_name[info.name] = info;
  EXPECT_EQ(by_name.at("math").weight, 1.0);
  EXPECT_EQ(by_name.at("format").weight, 0.1);
  EXPECT_EQ(by_name.at("accuracy").weight, 0.0);
  EXPECT_EQ(by_name.at("length").range.min, -1.0);
  EXPECT_FALSE(by_name.at("code").description.empty());
}

TEST(RewardConfig, ValidateNamesTheKey) {
  RewardConfig config;
  config.timeout_s = 0;
  EXPECT_EQ(config.validate().message(), "reward.timeout_s: must be > 0");
  config = RewardConfig();
  config.length.max_len = 10;
  config.length.cache_len = 10;
  EXPECT_NE(config.validate().message().find("reward.length.cache_len"), std::string::npos);
  config = RewardConfig();
  config.code = {{"wall_seconds", "lots"}};
  auto registry = RuleRegistry::create(config);
  ASSERT_FALSE(registry.ok());
  EXPECT_NE(registry.status().message().find("reward.code"), std::string::npos)
      << registry.status();
}

}  // namespace
}  // namespace forge::reward
