// `forge reward-server`: RewardService over gRPC, grading with the reward rules of a run config's
// `reward:` section, until SIGINT/SIGTERM.

#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "reward/grader.h"
#include "reward/reward_server.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"
#include "rl/cli/serve_until_signal.h"
#include "rl/cli/server_flags.h"
#include "rl/config/run_config.h"

namespace forge::rl::cli {
namespace {

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

}  // namespace forge::rl::cli
