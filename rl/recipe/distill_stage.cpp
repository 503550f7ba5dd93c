#include "rl/recipe/distill_stage.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "rl/orchestrator/backends.h"
#include "rl/orchestrator/run_inputs.h"
#include "rl/orchestrator/supervisor.h"
#include "rl/policy_loader.h"
#include "rl/recipe/distiller.h"
#include "rl/recipe/sft_stage.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

DistillOptions distill_options(const RunConfig& config) {
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
  return options;
}

// Rejection-samples the teacher; writes distill.jsonl and distill.json.
absl::StatusOr<std::vector<Example>> sample_teacher(const RunConfig& config,
                                                    const std::string& teacher,
                                                    Supervisor& supervisor, Logger* logger) {
  const std::string prompts = config.distill.data.empty() ? config.data.train : config.distill.data;
  ASSIGN_OR_RETURN(std::vector<Example> examples, load_jsonl(prompts));
  if (config.distill.max_prompts > 0 &&
      static_cast<int>(examples.size()) > config.distill.max_prompts) {
    examples.resize(config.distill.max_prompts);
  }
  ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::create(config.data.template_name));
  // The teacher's architecture comes from its checkpoint; the tokenizer is checked against it.
  RunConfig teacher_config = config;
  teacher_config.model.checkpoint = teacher;
  teacher_config.rollout.max_batch_size = config.distill.max_batch_size;
  // Grading stays in this process unless reward.address names a server.
  teacher_config.reward.in_process = config.reward.address.empty();
  ASSIGN_OR_RETURN(policy::ModelConfig model_config,
                   resolve_model_config(teacher_config.model));
  ASSIGN_OR_RETURN(std::unique_ptr<policy::Tokenizer> owned_tokenizer,
                   load_tokenizer(config.tokenizer, model_config));
  const std::shared_ptr<const policy::Tokenizer> tokenizer(std::move(owned_tokenizer));

  ASSIGN_OR_RETURN(StartedGrading grading, start_grading(supervisor, teacher_config));
  ASSIGN_OR_RETURN(
      StartedGeneration generation,
      start_generation(supervisor, teacher_config,
                       {config.distill.workers,
                        "distill.workers",
                        config.rollout.addresses,
                        "rollout.addresses",
                        {"--config", config.run.dir + "/config.yaml",
                         "model.checkpoint=" + teacher,
                         absl::StrCat("rollout.max_batch_size=", config.distill.max_batch_size)}},
                       teacher_config.model, tokenizer));
  if (!config.rollout.addresses.empty()) {
    // Workers we did not start may hold other weights: push the teacher's.
    ASSIGN_OR_RETURN(LoadedPolicy model,
                     load_policy(teacher_config.model, config.run.seed, config.run.device));
    RETURN_IF_ERROR(
        generation.generation->push_weights(model.model->named_tensors(), 0).status());
  }
  log_info(logger, absl::StrCat("sampling ", examples.size(), " prompts x ", config.distill.k,
                                " from ", teacher, generation.workers.empty()
                                                       ? std::string(" in process")
                                                       : absl::StrCat(" on ",
                                                                      generation.workers.size(),
                                                                      " worker(s)")));
  DistillStats stats;
  auto progress = [&](const DistillStats& s) {
    log_info(logger, absl::StrCat(s.prompts, "/", examples.size(), " prompts, ",
                                  s.accepted_samples, "/", s.samples, " samples accepted, ",
                                  s.kept, " kept"));
  };
  ASSIGN_OR_RETURN(std::vector<Example> kept,
                   rejection_sample(*generation.generation, *tokenizer, chat, *grading.grading,
                                    examples, distill_options(config), stats,
                                    [&] { return supervisor.stop_requested(); }, progress));
  RETURN_IF_ERROR(supervisor.health());
  supervisor.stop_all();  // the workers' cores go to the student

  nlohmann::ordered_json j = stats.to_json();
  j["teacher"] = teacher;
  RETURN_IF_ERROR(write_file_atomic(config.run.dir + "/distill.json", j.dump(2) + "\n"));
  if (!kept.empty()) RETURN_IF_ERROR(write_jsonl(config.run.dir + "/distill.jsonl", kept));
  log_info(logger, absl::StrCat("accepted ", stats.accepted_samples, " of ", stats.samples,
                                " samples (", stats.correct, " correct, ", stats.well_formed,
                                " well-formed); kept ", stats.kept, " from ",
                                stats.prompts_with_kept, " of ", stats.prompts, " prompts -> ",
                                config.run.dir, "/distill.jsonl"));
  if (kept.empty()) {
    return absl::FailedPreconditionError(
        "distill: the teacher had no accepted sample; nothing to train the student on");
  }
  return kept;
}

}  // namespace

absl::StatusOr<SftOutcome> run_distill_stage(const RunConfig& config, bool resume,
                                             Logger* logger) {
  std::string teacher =
      config.distill.teacher.empty() ? config.model.checkpoint : config.distill.teacher;
  if (teacher.empty()) {
    return absl::InvalidArgumentError(
        "distill.teacher (or model.checkpoint): the teacher checkpoint is required");
  }
  teacher = fs::absolute(teacher).string();
  if (config.data.train.empty() && config.distill.data.empty()) {
    return absl::InvalidArgumentError(
        "distill.data / data.train: the prompts to sample are required");
  }
  if (config.distill.student_config.empty()) {
    return absl::InvalidArgumentError(
        "distill.student_config: the student's config.json is required");
  }
  // The student's architecture is checked before minutes of sampling.
  ModelSection student;
  student.config = config.distill.student_config;
  if (absl::StatusOr<policy::ModelConfig> c = resolve_model_config(student); !c.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("distill.student_config: ", c.status().message()));
  }
  RETURN_IF_ERROR(prepare_run_dir(config));
  set_torch_threads(config.run.threads);

  Supervisor supervisor(config.run.dir + "/logs");
  supervisor.set_on_stop_request([&](int count) {
    log_warning(logger, "stopping");
    if (count > 1) supervisor.stop_all(std::chrono::milliseconds(1000));
  });

  const std::string accepted_path = config.run.dir + "/distill.jsonl";
  std::vector<Example> accepted;
  if (resume && fs::exists(accepted_path)) {
    ASSIGN_OR_RETURN(accepted, load_with_completions(accepted_path, "distill.jsonl", true));
    log_info(logger, absl::StrCat("--resume: ", accepted.size(), " accepted examples from ",
                                  accepted_path));
  } else {
    absl::StatusOr<std::vector<Example>> kept =
        sample_teacher(config, teacher, supervisor, logger);
    if (!kept.ok()) {
      if (supervisor.stop_requested()) return absl::CancelledError("interrupted");
      const absl::Status children = supervisor.health();
      return children.ok() ? kept.status() : children;
    }
    accepted = *std::move(kept);
  }

  SftStageInputs in;
  in.config = &config;
  in.model = student;
  if (config.distill.held_out_prompts > 0) {
    split_held_out(std::move(accepted), config.distill.held_out_prompts, in.train, in.held_out);
    log_info(logger, absl::StrCat(in.held_out.size(),
                                  " accepted examples held out for the student's plateau stop"));
  } else {
    in.train = std::move(accepted);
  }
  if (in.held_out.empty() && !config.data.eval.empty()) {
    ASSIGN_OR_RETURN(in.held_out, load_with_completions(config.data.eval, "data.eval", false));
  }
  in.resume = resume;
  in.stop_requested = [&] { return supervisor.stop_requested(); };
  in.logger = logger;
  log_info(logger, absl::StrCat("training the student (", in.model.config, ") on ",
                                in.train.size(), " examples"));
  return run_sft_stage(std::move(in));
}

}  // namespace forge::rl
