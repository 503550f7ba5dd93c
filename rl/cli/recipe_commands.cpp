// The R1 recipe's stages besides `forge run`:
//   forge sft --config C [key=value ...] [--resume]
//       cold-start SFT on data with completions (sft.data, default data.train); held-out loss on
//       data.eval's completions; the best model in run.dir/model/ (rl/recipe/sft_stage.h).
//   forge eval --config C [--checkpoint DIR] [--data F.jsonl] [--out report.json] [key=value ...]
//       greedy / pass@1 / pass@k / maj@k / format rate per task (rl/recipe/evaluator.h); a one-line
//       summary, and the JSON report on --out (summary on stdout) or on stdout (summary on stderr).
//   forge distill --config C [key=value ...] [--resume]
//       rejection sampling of the teacher (distill.teacher, default model.checkpoint) on the
//       prompts of distill.data (default data.train) through rollout-worker children, accepted
//       responses to run.dir/distill.jsonl (+ distill.json stats), then SFT of the dense student
//       (distill.student_config) on them in run.dir, with the accepted responses of the last
//       distill.held_out_prompts prompts held out for its plateau stop (else data.eval's).
// SIGINT/SIGTERM stop SFT after the current step with a checkpoint (exit 130); children are
// stopped on every exit path (the Supervisor's destructor) and die with forge (PDEATHSIG).

#include <filesystem>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "policy/checkpoint.h"
#include "reward/grader.h"
#include "rl/cli/commands.h"
#include "rl/config/run_config.h"
#include "rl/orchestrator/rollout_workers.h"
#include "rl/orchestrator/supervisor.h"
#include "rl/policy_loader.h"
#include "rl/recipe/distiller.h"
#include "rl/recipe/evaluator.h"
#include "rl/recipe/sft_stage.h"
#include "rollout/pool.h"

namespace forge::rl::cli {
namespace {

namespace fs = std::filesystem;

constexpr auto kHealthTimeout = std::chrono::seconds(120);
constexpr int kExitInterrupted = 130;

// Creates run.dir and writes the resolved config there (children read it).
absl::Status prepare_run_dir(const RunConfig& config) {
  std::error_code ec;
  fs::create_directories(config.run.dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("run.dir: cannot create '", config.run.dir, "': ", ec.message()));
  }
  return write_file_atomic(config.run.dir + "/config.yaml", config.to_yaml());
}

void print_sft_outcome(const SftOutcome& o) {
  std::cout << "forge sft: " << o.steps << " steps (" << o.stop_reason << "); ";
  if (o.best_eval_loss) {
    std::cout << "best held-out loss " << *o.best_eval_loss << " at step " << o.best_step;
  } else {
    std::cout << "no held-out loss";
  }
  std::cout << "; model in " << o.model_dir << std::endl;
}

// ---- forge sft ----------------------------------------------------------------------------------

int run_sft(const std::string& config_path, const std::vector<std::string>& overrides,
            bool resume) {
  const std::string name = "sft";
  absl::StatusOr<RunConfig> config = RunConfig::load(config_path, overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  const std::string data = config->sft.data.empty() ? config->data.train : config->sft.data;
  if (data.empty()) {
    return fail(name, "sft.data / data.train: a dataset with completions is required", kExitUsage);
  }
  if (absl::Status st = prepare_run_dir(*config); !st.ok()) return fail_with_status(name, st);
  set_torch_threads(config->run.threads);

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
  absl::StatusOr<SftOutcome> outcome = run_sft_stage(std::move(in));
  if (!outcome.ok()) return fail_with_status(name, outcome.status());
  print_sft_outcome(*outcome);
  return outcome->stop_reason == "interrupted" ? kExitInterrupted : kExitOk;
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
  if (!args.checkpoint.empty()) config->model.checkpoint = args.checkpoint;
  std::string data = args.data;
  if (data.empty()) data = config->eval.data.empty() ? config->data.eval : config->eval.data;
  if (data.empty()) {
    return fail(name, "no held-out data: give --data, eval.data or data.eval", kExitUsage);
  }
  absl::StatusOr<std::vector<Example>> examples = load_jsonl(data);
  if (!examples.ok()) return fail_with_status(name, examples.status());
  if (config->eval.max_prompts > 0 &&
      static_cast<int>(examples->size()) > config->eval.max_prompts) {
    examples->resize(config->eval.max_prompts);
  }
  absl::StatusOr<ChatTemplate> chat = ChatTemplate::create(config->data.template_name);
  if (!chat.ok()) return fail_with_status(name, chat.status());

  const int threads = set_torch_threads(config->run.threads);
  absl::StatusOr<LoadedPolicy> policy =
      load_policy(config->model, config->run.seed, config->run.device);
  if (!policy.ok()) return fail_with_status(name, policy.status());
  absl::StatusOr<std::unique_ptr<policy::Tokenizer>> tokenizer =
      load_tokenizer(config->tokenizer, policy->config);
  if (!tokenizer.ok()) return fail_with_status(name, tokenizer.status());
  absl::StatusOr<std::unique_ptr<reward::Grader>> grader = reward::Grader::create(config->reward);
  if (!grader.ok()) return fail_with_status(name, grader.status());

  EvalOptions options;
  options.k = config->eval.k;
  options.max_new_tokens = config->eval.max_new_tokens > 0 ? config->eval.max_new_tokens
                                                           : config->rollout.max_new_tokens;
  options.temperature = config->eval.temperature;
  options.top_p = config->eval.top_p;
  options.high_temperature = config->eval.high_temperature;
  options.seed = static_cast<uint64_t>(config->eval.seed);
  options.max_batch_size = config->eval.max_batch_size;
  options.cache_bytes = config->rollout.cache_mb << 20;
  const std::string weights = policy->checkpoint.empty() ? "run.seed" : policy->checkpoint;
  absl::StatusOr<EvalRun> run =
      evaluate(policy->model, std::shared_ptr<const policy::Tokenizer>(std::move(*tokenizer)),
               *chat, **grader, *examples, options);
  if (!run.ok()) return fail_with_status(name, run.status());

  nlohmann::ordered_json report = run->report;
  report["checkpoint"] = weights;
  report["data"] = data;
  report["threads"] = threads;
  const std::string summary =
      absl::StrCat("forge eval: ", examples->size(), " prompts, k=", options.k, ": ",
                   eval_summary_line(report["all"]),
                   absl::StrFormat("  (%.1fs generate, %.1fs grade)", run->generate_seconds,
                                   run->grade_seconds));
  const std::string text = report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (args.out.empty()) {
    std::cerr << summary << std::endl;
    std::cout << text << std::endl;
  } else {
    const fs::path parent = fs::path(args.out).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (absl::Status st = write_file_atomic(args.out, text + "\n"); !st.ok()) {
      return fail(name, std::string(st.message()));
    }
    std::cout << summary << std::endl;
  }
  return kExitOk;
}

// ---- forge distill ------------------------------------------------------------------------------

// Rejection-samples the teacher through rollout workers; writes distill.jsonl and distill.json.
absl::StatusOr<std::vector<Example>> sample_teacher(const RunConfig& config,
                                                    const std::string& teacher,
                                                    Supervisor& supervisor) {
  const std::string prompts = config.distill.data.empty() ? config.data.train : config.distill.data;
  ASSIGN_OR_RETURN(std::vector<Example> examples, load_jsonl(prompts));
  if (config.distill.max_prompts > 0 &&
      static_cast<int>(examples.size()) > config.distill.max_prompts) {
    examples.resize(config.distill.max_prompts);
  }
  ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::create(config.data.template_name));
  ASSIGN_OR_RETURN(std::unique_ptr<reward::Grader> grader, reward::Grader::create(config.reward));
  // The teacher's architecture comes from its checkpoint; the tokenizer is checked against it.
  ModelSection teacher_model = config.model;
  teacher_model.checkpoint = teacher;
  ASSIGN_OR_RETURN(policy::ModelConfig teacher_config, resolve_model_config(teacher_model));
  ASSIGN_OR_RETURN(std::unique_ptr<policy::Tokenizer> tokenizer,
                   load_tokenizer(config.tokenizer, teacher_config));

  ASSIGN_OR_RETURN(std::vector<std::string> addresses,
                   start_rollout_workers(
                       supervisor,
                       {config.distill.workers,
                        "distill.workers",
                        config.rollout.addresses,
                        "rollout.addresses",
                        {"--config", config.run.dir + "/config.yaml", "model.checkpoint=" + teacher,
                         absl::StrCat("rollout.max_batch_size=", config.distill.max_batch_size)}},
                       kHealthTimeout));
  ASSIGN_OR_RETURN(std::unique_ptr<rollout::Pool> pool, rollout::Pool::create(addresses));
  if (!config.rollout.addresses.empty()) {
    // Workers we did not start may hold other weights: push the teacher's.
    ASSIGN_OR_RETURN(policy::Model model, policy::load_checkpoint(teacher));
    ASSIGN_OR_RETURN(rollout::PoolPushResult pushed, pool->push_weights(model->named_tensors(), 0));
    if (pushed.updated.empty()) return absl::UnavailableError("no rollout worker took the teacher");
  }
  std::cout << "forge distill: sampling " << examples.size() << " prompts x " << config.distill.k
            << " from " << teacher << " on " << addresses.size() << " worker(s)" << std::endl;

  DistillOptions options;
  options.k = config.distill.k;
  options.temperature = config.distill.temperature;
  options.top_p = config.distill.top_p;
  options.max_new_tokens = config.distill.max_new_tokens > 0 ? config.distill.max_new_tokens
                                                             : config.rollout.max_new_tokens;
  options.max_per_prompt = config.distill.max_per_prompt;
  options.dedup = config.distill.dedup;
  options.prompts_per_request = config.distill.prompts_per_request;
  options.seed = static_cast<uint64_t>(config.run.seed);
  DistillStats stats;
  auto progress = [&](const DistillStats& s) {
    std::cout << "forge distill: " << s.prompts << "/" << examples.size() << " prompts, "
              << s.accepted_samples << "/" << s.samples << " samples accepted, " << s.kept
              << " kept" << std::endl;
  };
  ASSIGN_OR_RETURN(
      std::vector<Example> kept,
      rejection_sample([&](const rollout::GenerationRequest& r) { return pool->generate(r); },
                       *tokenizer, chat, *grader, examples, options, stats,
                       [&] { return supervisor.stop_requested(); }, progress));
  RETURN_IF_ERROR(supervisor.health());
  supervisor.stop_all();  // the workers' cores go to the student

  nlohmann::ordered_json j = stats.to_json();
  j["teacher"] = teacher;
  RETURN_IF_ERROR(write_file_atomic(config.run.dir + "/distill.json", j.dump(2) + "\n"));
  if (!kept.empty()) RETURN_IF_ERROR(write_jsonl(config.run.dir + "/distill.jsonl", kept));
  std::cout << "forge distill: accepted " << stats.accepted_samples << " of " << stats.samples
            << " samples (" << stats.correct << " correct, " << stats.well_formed
            << " well-formed); kept " << stats.kept << " from " << stats.prompts_with_kept << " of "
            << stats.prompts << " prompts -> " << config.run.dir << "/distill.jsonl" << std::endl;
  if (kept.empty()) {
    return absl::FailedPreconditionError(
        "distill: the teacher had no accepted sample; nothing to train the student on");
  }
  return kept;
}

int run_distill(const std::string& config_path, const std::vector<std::string>& overrides,
                bool resume) {
  const std::string name = "distill";
  absl::StatusOr<RunConfig> config = RunConfig::load(config_path, overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  std::string teacher =
      config->distill.teacher.empty() ? config->model.checkpoint : config->distill.teacher;
  if (teacher.empty()) {
    return fail(name, "distill.teacher (or model.checkpoint): the teacher checkpoint is required",
                kExitUsage);
  }
  teacher = fs::absolute(teacher).string();
  if (config->data.train.empty() && config->distill.data.empty()) {
    return fail(name, "distill.data / data.train: the prompts to sample are required", kExitUsage);
  }
  if (config->distill.student_config.empty()) {
    return fail(name, "distill.student_config: the student's config.json is required", kExitUsage);
  }
  // The student's architecture is checked before minutes of sampling.
  ModelSection student;
  student.config = config->distill.student_config;
  if (absl::StatusOr<policy::ModelConfig> c = resolve_model_config(student); !c.ok()) {
    return fail(name, absl::StrCat("distill.student_config: ", c.status().message()), kExitUsage);
  }
  if (absl::Status st = prepare_run_dir(*config); !st.ok()) return fail_with_status(name, st);
  set_torch_threads(config->run.threads);

  Supervisor supervisor(config->run.dir + "/logs");
  supervisor.set_on_stop_request([&](int count) {
    std::cerr << "\nforge distill: stopping" << std::endl;
    if (count > 1) supervisor.stop_all(std::chrono::milliseconds(1000));
  });

  const std::string accepted_path = config->run.dir + "/distill.jsonl";
  std::vector<Example> accepted;
  if (resume && fs::exists(accepted_path)) {
    absl::StatusOr<std::vector<Example>> loaded =
        load_with_completions(accepted_path, "distill.jsonl", true);
    if (!loaded.ok()) return fail_with_status(name, loaded.status());
    accepted = *std::move(loaded);
    std::cout << "forge distill: --resume: " << accepted.size() << " accepted examples from "
              << accepted_path << std::endl;
  } else {
    absl::StatusOr<std::vector<Example>> kept = sample_teacher(*config, teacher, supervisor);
    if (!kept.ok()) {
      if (supervisor.stop_requested()) return fail(name, "interrupted", kExitInterrupted);
      const absl::Status children = supervisor.health();
      return fail_with_status(name, children.ok() ? kept.status() : children);
    }
    accepted = *std::move(kept);
  }

  SftStageInputs in;
  in.config = &*config;
  in.model = student;
  if (config->distill.held_out_prompts > 0) {
    split_held_out(std::move(accepted), config->distill.held_out_prompts, in.train, in.held_out);
    std::cout << "forge distill: " << in.held_out.size()
              << " accepted examples held out for the student's plateau stop" << std::endl;
  } else {
    in.train = std::move(accepted);
  }
  if (in.held_out.empty() && !config->data.eval.empty()) {
    absl::StatusOr<std::vector<Example>> held_out =
        load_with_completions(config->data.eval, "data.eval", false);
    if (!held_out.ok()) return fail_with_status(name, held_out.status());
    in.held_out = *std::move(held_out);
  }
  in.resume = resume;
  in.stop_requested = [&] { return supervisor.stop_requested(); };
  std::cout << "forge distill: training the student (" << in.model.config << ") on "
            << in.train.size() << " examples" << std::endl;
  absl::StatusOr<SftOutcome> outcome = run_sft_stage(std::move(in));
  if (!outcome.ok()) return fail_with_status(name, outcome.status());
  print_sft_outcome(*outcome);
  return outcome->stop_reason == "interrupted" ? kExitInterrupted : kExitOk;
}

}  // namespace

Command add_sft_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("sft", "Supervised fine-tuning on chain-of-thought data");
  auto config = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto resume = std::make_shared<bool>(false);
  app->add_option("--config", *config, "Run config (YAML), e.g. configs/tiny.yaml")->required();
  app->add_option("overrides", *overrides, "Dotted overrides: sft.max_steps=200 run.dir=runs/sft");
  app->add_flag("--resume", *resume, "Continue from the newest valid checkpoint in run.dir");
  return {app, [=] { return run_sft(*config, *overrides, *resume); }};
}

Command add_eval_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand(
      "eval", "Evaluate a checkpoint: greedy, pass@1, pass@k, maj@k, format rate");
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
  CLI::App* app = parent.add_subcommand(
      "distill", "Rejection-sample a teacher and SFT a smaller student on its accepted answers");
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
  CLI::App* data = parent.add_subcommand("data", "Datasets: generate synthetic reasoning tasks");
  data->require_subcommand(1);
  return {add_data_gen_command(*data)};
}

}  // namespace forge::rl::cli
