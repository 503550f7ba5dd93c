// `forge grade`: JSONL in, JSONL out, graded by the reward rules of a run config's `reward:`
// section. Runs in the `forge` front end itself, which links no gRPC (it starts in milliseconds).

#include <chrono>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "reward/grade_file.h"
#include "reward/grader.h"
#include "rl/cli/commands.h"
#include "rl/cli/jsonl_files.h"
#include "rl/cli/subcommands.h"
#include "rl/config/run_config.h"

namespace forge::rl::cli {
namespace {

// The reward stack's config of the run config at `path` (reward_config_of).
absl::StatusOr<reward::RewardConfig> load_reward_config(const std::string& path,
                                                        const std::vector<std::string>& overrides) {
  absl::StatusOr<RunConfig> config = RunConfig::load(path, overrides);
  if (!config.ok()) return config.status();
  return reward_config_of(*config);
}

int run_grade(const std::string& input, const std::string& output, const std::string& config_path,
              const std::vector<std::string>& overrides) {
  const char* name = "grade";
  absl::StatusOr<reward::RewardConfig> config = load_reward_config(config_path, overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  absl::StatusOr<std::unique_ptr<reward::Grader>> grader = reward::Grader::create(*config);
  if (!grader.ok()) return fail(name, std::string(grader.status().message()), kExitUsage);

  absl::StatusOr<std::unique_ptr<JsonlFiles>> files = JsonlFiles::open(input, output);
  if (!files.ok()) return fail(name, std::string(files.status().message()));

  const auto start = std::chrono::steady_clock::now();
  reward::GradeFileStats stats;
  absl::Status status = reward::grade_jsonl((*files)->in(), (*files)->out(), **grader, &stats);
  if (status.ok()) status = (*files)->commit();
  if (!status.ok()) return fail(name, std::string(status.message()));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t graded = stats.lines - stats.errors;
  std::cerr << absl::StrFormat(
      "forge grade: %d lines, %d errors, mean reward %.4f, %.1f lines/s\n", stats.lines,
      stats.errors, graded > 0 ? stats.reward_sum / graded : 0.0,
      seconds > 0 ? stats.lines / seconds : 0.0);
  return kExitOk;
}

}  // namespace

Command add_grade_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("grade", description_of("grade"));
  auto input = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  app->add_option("--input", *input,
                  "JSONL: {id, rule, completion, answer?, tests?, prediction?} per line ('-': stdin)")
      ->required();
  app->add_option("--output", *output, "JSONL: {id, reward, components?, detail?, error?} per line "
                                       "('-': stdout)")
      ->required();
  app->add_option("--config", *config, "run config YAML (its reward section)");
  app->add_option("overrides", *overrides, "config overrides key=value ('reward.weights={math: 1}')");
  return {app, [=] { return run_grade(*input, *output, *config, *overrides); }};
}

}  // namespace forge::rl::cli
