// `forge grade` (JSONL in, JSONL out) and `forge reward-server` (RewardService over gRPC), both
// built from the `reward:` section of a run config.

#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reward/grade_file.h"
#include "reward/grader.h"
#include "reward/reward_server.h"
#include "rl/cli/commands.h"
#include "rl/cli/jsonl_files.h"
#include "rl/cli/subcommands.h"
#include "rl/cli/serve_until_signal.h"
#include "rl/cli/server_flags.h"
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

int run_reward_server(const std::string& listen, const std::string& config_path,
                      const std::vector<std::string>& overrides, const ServerFlags& flags) {
  const char* name = "reward-server";
  StopSignal signal;  // before any server thread exists
  absl::StatusOr<RunConfig> run_config = RunConfig::load(config_path, overrides);
  if (!run_config.ok()) return fail(name, std::string(run_config.status().message()), kExitUsage);
  absl::StatusOr<net::Security> security = setup_serving(name, flags, *run_config, {listen});
  if (!security.ok()) return fail(name, std::string(security.status().message()), kExitUsage);
  absl::StatusOr<std::unique_ptr<reward::Grader>> grader =
      reward::Grader::create(reward_config_of(*run_config));
  if (!grader.ok()) return fail(name, std::string(grader.status().message()), kExitUsage);
  std::string rules;
  for (const reward::RuleInfo& rule : (*grader)->rules()) {
    absl::StrAppend(&rules, rules.empty() ? "" : ", ", rule.name);
  }
  const int threads = (*grader)->concurrency();
  absl::StatusOr<std::unique_ptr<reward::RewardServer>> server =
      reward::RewardServer::start(listen, std::move(grader).value(), *security);
  if (!server.ok()) return fail(name, std::string(server.status().message()));
  absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> metrics =
      start_metrics(name, *run_config, *security, (*server)->metrics());
  if (!metrics.ok()) return fail(name, std::string(metrics.status().message()), kExitUsage);
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::cout << "forge reward-server: listening on " << host << ":" << (*server)->port()
            << " (rules: " << rules << "; " << threads << " grading threads)" << std::endl;

  return serve_until_signal(signal, name, [&] {
    (*server)->shutdown(std::chrono::seconds(5));
    (*server)->wait();
    metrics->reset();
    server->reset();
  });
}

}  // namespace

Command add_reward_server_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("reward-server",
                                        description_of("reward-server"));
  auto listen = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto flags = std::make_shared<ServerFlags>();
  app->add_option("--listen", *listen, "HOST:PORT to serve on (port 0: any free port)")
      ->required();
  app->add_option("--config", *config, "run config YAML (its reward and server sections)");
  app->add_option("overrides", *overrides, "config overrides key=value (reward.timeout_s=5)");
  add_server_flags(app, *flags);
  return {app, [=] { return run_reward_server(*listen, *config, *overrides, *flags); }};
}

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
