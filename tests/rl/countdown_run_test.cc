// Countdown can be trained on: `forge data gen --task countdown` writes items with a puzzle as the
// gold answer, and three GRPO steps of `forge run` (real child processes on loopback) grade them
// with the reward stack's "countdown" rule.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/common/forge_command.h"
#include "tests/common/small_model_yaml.h"

namespace {

namespace fs = std::filesystem;
using forge::test_support::processes_with;
using forge::test_support::read_jsonl;
using forge::test_support::run_forge;
using forge::test_support::small_model_yaml;
using nlohmann::json;

TEST(CountdownRun, ThreeGrpoStepsAreGradedByTheCountdownRule) {
  const fs::path dir =
      fs::temp_directory_path() / ("forge_countdown_run_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto gen = run_forge("data gen --task countdown --n 32 --seed 1 --out " +
                       (dir / "train.jsonl").string());
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::vector<json> data = read_jsonl(dir / "train.jsonl");
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data[0]["rule"], "countdown");
  std::ofstream(dir / "run.yaml") << small_model_yaml()
                                  << "data: {train: train.jsonl}\n"
                                  << "rollout: {workers: 1, n: 4, max_new_tokens: 24}\n"
                                  << "reward: {weights: {countdown: 1.0, format: 0.1}}\n"
                                  << "trainer: {total_steps: 3, batch_size: 4, lr: 1.0e-3,"
                                  << " micro_batch_size: 8}\n";
  const fs::path out = dir / "run";
  auto r = run_forge("run " + (dir / "run.yaml").string() + " run.dir=" + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<json> rows = read_jsonl(out / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 3u) << r.output;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["step"].get<int>(), static_cast<int>(i) + 1);
    ASSERT_TRUE(rows[i].contains("reward/countdown/mean")) << rows[i].dump();
    const double mean = rows[i]["reward/countdown/mean"].get<double>();
    EXPECT_GE(mean, 0.0);
    EXPECT_LE(mean, 1.0);
    EXPECT_FALSE(rows[i].contains("reward/math/mean")) << rows[i].dump();
  }
  // Every sample was graded by the rule (a verdict, not an error): its detail says why.
  const std::vector<json> samples = read_jsonl(out / "samples.jsonl");
  ASSERT_FALSE(samples.empty());
  EXPECT_NE(samples[0].dump().find("countdown"), std::string::npos) << samples[0].dump();
  EXPECT_TRUE(processes_with(out.string()).empty());
  fs::remove_all(dir);
}

}  // namespace
