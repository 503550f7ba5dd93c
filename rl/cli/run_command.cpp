// `forge run CONFIG [key=value ...] [--resume]`: parses the arguments and the config, runs the
// R1-Zero loop (rl/orchestrator/grpo_run.h) and maps its outcome to an exit code.
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "base/logger.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"
#include "rl/cli/server_flags.h"
#include "rl/config/run_config.h"
#include "rl/orchestrator/grpo_run.h"

namespace forge::rl::cli {
namespace {

int run_training(const std::string& config_path, const std::vector<std::string>& overrides,
                 bool resume, int nproc, const ServerFlags& flags) {
  const char* name = "run";
  absl::StatusOr<RunConfig> config = RunConfig::load(config_path, overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  absl::StatusOr<net::Security> security =
      setup_serving(name, flags, *config, {config->server.trainer_address});
  if (!security.ok()) return fail(name, std::string(security.status().message()), kExitUsage);
  StreamLogger logger("forge run");
  if (nproc > 0) {
    std::vector<std::string> args = {"run", config_path};
    args.insert(args.end(), overrides.begin(), overrides.end());
    if (resume) args.push_back("--resume");
    return launch_ranks(name, nproc, args, logger);
  }
  absl::StatusOr<GrpoRunOutcome> outcome = run_grpo(*config, {resume, &logger, *security});
  if (!outcome.ok()) return fail_with_status(name, outcome.status());
  if (outcome->interrupted) {
    if (outcome->root) log_info(&logger,
               absl::StrCat("stopped at step ", outcome->steps, "; checkpoint saved in ",
                            config->run.dir, "/checkpoints"));
    return kExitInterrupted;
  }
  if (outcome->root) {
    log_info(&logger, absl::StrCat("finished ", outcome->steps, " steps; metrics in ",
                                   config->run.dir, "/metrics.jsonl"));
  }
  return kExitOk;
}

}  // namespace

Command add_run_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("run", description_of("run"));
  auto config = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto resume = std::make_shared<bool>(false);
  auto nproc = std::make_shared<int>(0);
  auto flags = std::make_shared<ServerFlags>();
  app->add_option("config", *config, "Run config (YAML), e.g. configs/tiny.yaml")->required();
  app->add_option("overrides", *overrides, "Dotted overrides: trainer.total_steps=4 run.dir=runs/x");
  app->add_flag("--resume", *resume, "Continue from the newest valid checkpoint in run.dir");
  app->add_option("--nproc", *nproc,
                  "Start N data-parallel ranks on this machine (like torchrun --standalone)")
      ->check(CLI::Range(1, 1024));
  add_server_flags(app, *flags);
  return {app, [=] { return run_training(*config, *overrides, *resume, *nproc, *flags); }};
}

}  // namespace forge::rl::cli
