// Reward plugins through the C ABI: the example plugin (examples/plugins) is built by CMake and
// loaded here; fixtures built from tests/reward/plugins check every way loading can fail.
#include "reward/plugin_rule.h"

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "reward/grader.h"
#include "reward/rule_registry.h"

namespace forge::reward {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kNoDeadline = Clock::time_point::max();

GradeItem item_with(const std::string& completion) {
  GradeItem item;
  item.id = "p";
  item.completion = completion;
  item.answer = "7";
  return item;
}

TEST(Plugin, ExamplePluginLoadsAndGrades) {
  auto rule = load_plugin_rule(FORGE_EXAMPLE_PLUGIN, nlohmann::json::object());
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ((*rule)->name(), "repetition");
  EXPECT_NE((*rule)->description().find("n-grams"), std::string::npos);

  auto varied = (*rule)->grade(item_with("one two three four five six"), kNoDeadline);
  ASSERT_TRUE(varied.ok()) << varied.status();
  EXPECT_EQ(varied->reward, 1.0);
  EXPECT_EQ(varied->detail, "4 of 4 3-grams distinct");

  // "a b a b a b": 3-grams "a b a", "b a b", "a b a", "b a b" -> 2 distinct of 4.
  auto looping = (*rule)->grade(item_with("a b a b a b"), kNoDeadline);
  ASSERT_TRUE(looping.ok());
  EXPECT_DOUBLE_EQ(looping->reward, 0.5);
}

TEST(Plugin, OptionsReachTheFactory) {
  auto rule = load_plugin_rule(FORGE_EXAMPLE_PLUGIN, {{"repetition", {{"n", 1}}}});
  ASSERT_TRUE(rule.ok()) << rule.status();
  auto r = (*rule)->grade(item_with("x x y"), kNoDeadline);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->reward, 2.0 / 3.0, 1e-12);

  auto bad = load_plugin_rule(FORGE_EXAMPLE_PLUGIN, {{"repetition", {{"n", 99}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("create() failed for rule 'repetition'"),
            std::string::npos)
      << bad.status();
  EXPECT_NE(bad.status().message().find("n: expected an integer in [1, 16]"), std::string::npos)
      << bad.status();
}

TEST(Plugin, ConfiguredPluginJoinsTheRegistryAndTheMix) {
  RewardConfig config;
  config.plugins = {FORGE_EXAMPLE_PLUGIN};
  config.weights = {{"format", 1.0}, {"repetition", 0.5}};
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();
  GradeItem item = item_with("<think> a b a b a b </think> <answer>7</answer>");
  GradeOutcome out = (*grader)->grade_one(item, kNoDeadline);
  ASSERT_TRUE(out.error.empty()) << out.error;
  // Words: <think> a b a b a b </think> <answer>7</answer>: 7 trigrams, of which "a b a" and
  // "b a b" repeat: 5 distinct.
  EXPECT_DOUBLE_EQ(out.components.at("repetition"), 5.0 / 7.0);
  EXPECT_EQ(out.components.at("format"), 1.0);
  EXPECT_DOUBLE_EQ(out.reward, 1.0 + 0.5 * 5.0 / 7.0);
}

TEST(Plugin, WrongAbiVersionIsAClearError) {
  auto rule = load_plugin_rule(FORGE_FIXTURE_WRONG_ABI_PLUGIN, nlohmann::json::object());
  ASSERT_FALSE(rule.ok());
  EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(rule.status().message());
  EXPECT_NE(message.find(FORGE_FIXTURE_WRONG_ABI_PLUGIN), std::string::npos) << message;
  EXPECT_NE(message.find("plugin ABI version 99, but this Forge speaks 1"), std::string::npos)
      << message;
}

TEST(Plugin, MissingEntryPointIsAClearError) {
  auto rule = load_plugin_rule(FORGE_FIXTURE_NO_ENTRY_PLUGIN, nlohmann::json::object());
  ASSERT_FALSE(rule.ok());
  EXPECT_NE(rule.status().message().find("no exported function 'forge_reward_plugin'"),
            std::string::npos)
      << rule.status();
}

TEST(Plugin, MissingOrBrokenFileIsAClearError) {
  auto missing = load_plugin_rule("/nonexistent/libnothing.so", nlohmann::json::object());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/libnothing.so"), std::string::npos);
  EXPECT_NE(missing.status().message().find("cannot load"), std::string::npos);

  const std::string path = ::testing::TempDir() + "/not_a_library.so";
  std::ofstream(path) << "this is not an ELF file\n";
  auto broken = load_plugin_rule(path, nlohmann::json::object());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("cannot load"), std::string::npos) << broken.status();

  RewardConfig config;
  config.plugins = {"/nonexistent/libnothing.so"};
  auto grader = Grader::create(config);
  ASSERT_FALSE(grader.ok());
  EXPECT_NE(grader.status().message().find("/nonexistent/libnothing.so"), std::string::npos);
}

TEST(Plugin, ErrorsAndOutOfRangeRewardsAreReportedPerItem) {
  RewardConfig config;
  config.plugins = {FORGE_FIXTURE_PLUGIN};
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();
  GradeItem item = item_with("range");
  item.rule = "fixture";
  GradeOutcome range = (*grader)->grade_one(item, kNoDeadline);
  EXPECT_NE(range.error.find("fixture: returned reward 2 outside its range [0, 1]"),
            std::string::npos)
      << range.error;
  EXPECT_EQ(range.error_code, kErrorRuleFailed);

  item.completion = "error";
  GradeOutcome failed = (*grader)->grade_one(item, kNoDeadline);
  EXPECT_EQ(failed.error, "fixture: the fixture's backend is down");
  EXPECT_EQ(failed.error_code, kErrorPluginFailed);

  item.completion = "";
  GradeOutcome invalid = (*grader)->grade_one(item, kNoDeadline);
  EXPECT_EQ(invalid.error, "completion: the fixture needs text");
  EXPECT_EQ(invalid.error_code, kErrorInvalidItem);

  item.completion = std::string(50, 'x');
  GradeOutcome fine = (*grader)->grade_one(item, kNoDeadline);
  EXPECT_TRUE(fine.error.empty()) << fine.error;
  EXPECT_TRUE(fine.error_code.empty());
  EXPECT_DOUBLE_EQ(fine.reward, 0.5);
  EXPECT_NE(fine.detail.find("answer '7'"), std::string::npos) << fine.detail;
}

TEST(Plugin, FactoryFailureAndUnknownOptionsAreConfigErrors) {
  RewardConfig config;
  config.plugins = {FORGE_FIXTURE_PLUGIN};
  config.plugin_options = {{"fixture", {{"fail", true}}}};
  auto failed = Grader::create(config);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("asked to fail"), std::string::npos)
      << failed.status();

  config.plugin_options = {{"fixtur", nlohmann::json::object()}};
  auto typo = Grader::create(config);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("reward.plugin_options.fixtur"), std::string::npos)
      << typo.status();
}

TEST(Plugin, NameClashWithABuiltInIsRefused) {
  RewardConfig config;
  config.plugins = {FORGE_EXAMPLE_PLUGIN, FORGE_EXAMPLE_PLUGIN};
  auto grader = Grader::create(config);
  ASSERT_FALSE(grader.ok());
  EXPECT_NE(grader.status().message().find("a rule named 'repetition' already exists"),
            std::string::npos)
      << grader.status();
}

TEST(Plugin, APluginThatIsNotThreadSafeIsCalledOneAtATime) {
  RewardConfig config;
  config.plugins = {FORGE_FIXTURE_PLUGIN};
  config.concurrency = 4;
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();
  std::vector<GradeItem> items(16, item_with("concurrent"));
  for (GradeItem& item : items) item.rule = "fixture";
  auto outcomes = (*grader)->grade_batch(items, BatchOptions{});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const GradeOutcome& out : *outcomes) {
    ASSERT_TRUE(out.error.empty()) << out.error;
    EXPECT_NE(out.detail.find("max concurrent 1,"), std::string::npos) << out.detail;
  }
}

}  // namespace
}  // namespace forge::reward
