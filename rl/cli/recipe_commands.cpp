// The R1 recipe's stages besides `forge run`; each parses its arguments and the config and runs
// its stage:
//   forge sft --config C [key=value ...] [--resume]          rl/recipe/sft_stage.h
//       cold-start SFT on data with completions (sft.data, default data.train); held-out loss on
//       data.eval's completions; the best model in run.dir/model/.
//   forge eval --config C [--checkpoint DIR] [--data F.jsonl] [--out report.json] [key=value ...]
//       rl/recipe/eval_stage.h; a one-line summary, and the JSON report on --out (summary on
//       stdout) or on stdout (summary on stderr).
//   forge distill --config C [key=value ...] [--resume]      rl/recipe/distill_stage.h
// SIGINT/SIGTERM stop SFT after the current step with a checkpoint (exit 130).
#include <filesystem>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/logger.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"
#include "rl/cli/server_flags.h"
#include "rl/config/run_config.h"
#include "rl/dist/job.h"
#include "rl/orchestrator/run_inputs.h"
#include "rl/orchestrator/supervisor.h"
#include "rl/policy_loader.h"
#include "rl/recipe/distill_stage.h"
#include "rl/recipe/eval_stage.h"
#include "rl/recipe/sft_stage.h"

namespace forge::rl::cli {
namespace {

namespace fs = std::filesystem;

int sft_outcome(const std::string& name, const absl::StatusOr<SftOutcome>& o, Logger& logger) {
  if (!o.ok()) return fail_with_status(name, o.status());
  std::string line = absl::StrCat(o->steps, " steps (", o->stop_reason, "); ");
  if (o->best_eval_loss) {
    absl::StrAppend(&line, "best held-out loss ", *o->best_eval_loss, " at step ", o->best_step);
  } else {
    absl::StrAppend(&line, "no held-out loss");
  }
  absl::StrAppend(&line, "; model in ", o->model_dir);
  log_info(&logger, line);
  return o->stop_reason == "interrupted" ? kExitInterrupted : kExitOk;
}

// ---- forge sft ----------------------------------------------------------------------------------

int run_sft(const std::string& config_path, const std::vector<std::string>& overrides,
            bool resume, int nproc) {
  const std::string name = "sft";
  absl::StatusOr<RunConfig> config = RunConfig::load(config_path, overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  if (nproc > 0) {
    std::vector<std::string> args = {"sft", "--config", config_path};
    args.insert(args.end(), overrides.begin(), overrides.end());
    if (resume) args.push_back("--resume");
    StreamLogger launcher("forge sft");
    return launch_ranks(name, nproc, args, launcher);
  }
  const std::string data = config->sft.data.empty() ? config->data.train : config->sft.data;
  if (data.empty()) {
    return fail(name, "sft.data / data.train: a dataset with completions is required", kExitUsage);
  }
  if (absl::Status st = prepare_run_dir(*config); !st.ok()) return fail_with_status(name, st);
  StreamLogger console("forge sft");
  absl::StatusOr<Job> job = join_job(*config, &console);  // a data-parallel job's rank, or alone
  if (!job.ok()) return fail_with_status(name, job.status());
  set_rank_threads(*config, job->rank.local_world_size);
  Logger& logger = *job->logger;

  SftStageInputs in;
  in.config = &*config;
  in.model = config->model;
  absl::StatusOr<std::vector<Example>> train =
      load_with_completions(data, config->sft.data.empty() ? "data.train" : "sft.data", true);
  if (!train.ok()) return fail_with_status(name, train.status());
  in.train = *std::move(train);
  if (!config->data.eval.empty()) {
    absl::StatusOr<std::vector<Example>> held_out =
        load_with_completions(config->data.eval, "data.eval", false);
    if (!held_out.ok()) return fail_with_status(name, held_out.status());
    in.held_out = *std::move(held_out);
  }
  Supervisor signals(config->run.dir + "/logs");  // SIGINT/SIGTERM -> stop after this step
  in.stop_requested = [&] { return signals.stop_requested(); };
  in.resume = resume;
  in.logger = &logger;
  in.collective = job->collective.get();
  return sft_outcome(name, run_sft_stage(std::move(in)), logger);
}

// ---- forge eval ---------------------------------------------------------------------------------

struct EvalArgs {
  std::string config, checkpoint, data, out;
  std::vector<std::string> overrides;
};

int run_eval(const EvalArgs& args) {
  const std::string name = "eval";
  if (args.config.empty() && args.checkpoint.empty()) {
    return fail(name, "give --config CONFIG and/or --checkpoint DIR", kExitUsage);
  }
  absl::StatusOr<RunConfig> config = RunConfig::load(args.config, args.overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  absl::StatusOr<EvalStageResult> result = run_eval_stage(*config, args.checkpoint, args.data);
  if (!result.ok()) return fail_with_status(name, result.status());
  const std::string text =
      result->report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (args.out.empty()) {
    std::cerr << result->summary << std::endl;
    std::cout << text << std::endl;
    return kExitOk;
  }
  const fs::path parent = fs::path(args.out).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (absl::Status st = write_file_atomic(args.out, text + "\n"); !st.ok()) {
    return fail(name, std::string(st.message()));
  }
  std::cout << result->summary << std::endl;
  return kExitOk;
}

// ---- forge distill ------------------------------------------------------------------------------

int run_distill(const std::string& config_path, const std::vector<std::string>& overrides,
                bool resume) {
  const std::string name = "distill";
  absl::StatusOr<RunConfig> config = RunConfig::load(config_path, overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  // Its rollout workers serve under the config's server section: talk to them the same way.
  absl::StatusOr<net::Security> security = setup_serving(name, ServerFlags{}, *config, {});
  if (!security.ok()) return fail(name, std::string(security.status().message()), kExitUsage);
  StreamLogger logger("forge distill");
  return sft_outcome(name, run_distill_stage(*config, resume, &logger), logger);
}

}  // namespace

Command add_sft_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("sft", description_of("sft"));
  auto config = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto resume = std::make_shared<bool>(false);
  auto nproc = std::make_shared<int>(0);
  app->add_option("--config", *config, "Run config (YAML), e.g. configs/tiny.yaml")->required();
  app->add_option("overrides", *overrides, "Dotted overrides: sft.max_steps=200 run.dir=runs/sft");
  app->add_flag("--resume", *resume, "Continue from the newest valid checkpoint in run.dir");
  app->add_option("--nproc", *nproc,
                  "Start N data-parallel ranks on this machine (like torchrun --standalone)")
      ->check(CLI::Range(1, 1024));
  return {app, [=] { return run_sft(*config, *overrides, *resume, *nproc); }};
}

Command add_eval_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("eval", description_of("eval"));
  auto args = std::make_shared<EvalArgs>();
  app->add_option("--config", args->config, "Run config (YAML): model, data, reward, eval");
  app->add_option("--checkpoint", args->checkpoint,
                  "Model folder to evaluate (overrides "
                  "model.checkpoint), e.g. runs/sft/model");
  app->add_option("--data", args->data, "Held-out JSONL (default eval.data, then data.eval)");
  app->add_option("--out", args->out, "Write the JSON report here (default: stdout)");
  app->add_option("overrides", args->overrides, "Dotted overrides: eval.k=4 eval.max_prompts=50");
  return {app, [args] { return run_eval(*args); }};
}

Command add_distill_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("distill", description_of("distill"));
  auto config = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto resume = std::make_shared<bool>(false);
  app->add_option("--config", *config, "Run config (YAML)")->required();
  app->add_option("overrides", *overrides,
                  "Dotted overrides: distill.teacher=runs/rl/checkpoints/step-50 distill.k=4");
  app->add_flag("--resume", *resume,
                "Reuse run.dir/distill.jsonl and continue the student's SFT from its checkpoint");
  return {app, [=] { return run_distill(*config, *overrides, *resume); }};
}

// `forge data gen` (data_gen_command.cpp).
Command add_data_gen_command(CLI::App& data);

std::vector<Command> add_data_commands(CLI::App& parent) {
  CLI::App* data = parent.add_subcommand("data", description_of("data"));
  data->require_subcommand(1);
  return {add_data_gen_command(*data)};
}

}  // namespace forge::rl::cli
