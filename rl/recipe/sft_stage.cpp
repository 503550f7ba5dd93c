#include "rl/recipe/sft_stage.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "rl/policy_loader.h"

namespace forge::rl {

absl::StatusOr<std::vector<Example>> load_with_completions(const std::string& path,
                                                           const std::string& key, bool required) {
  ASSIGN_OR_RETURN(std::vector<Example> all, load_jsonl(path));
  std::vector<Example> kept;
  for (Example& e : all) {
    if (!e.completion.empty()) kept.push_back(std::move(e));
  }
  if (required && kept.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": '", path,
                     "' has no example with a `completion` to train on (generate one with "
                     "`forge data gen --teacher`)"));
  }
  return kept;
}

absl::StatusOr<SftOutcome> run_sft_stage(SftStageInputs in) {
  const RunConfig& config = *in.config;
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(LoadedPolicy policy, load_policy(in.model, config.run.seed, config.run.device));
  ASSIGN_OR_RETURN(std::unique_ptr<policy::Tokenizer> tokenizer,
                   load_tokenizer(config.tokenizer, policy.config));

  ResumePoint resume;
  if (in.resume) {
    ASSIGN_OR_RETURN(resume, find_resume_point(config.run.dir, in.logger));
  }
  const bool root = in.collective == nullptr || in.collective->is_root();
  std::unique_ptr<MetricsLog> metrics;  // rank 0 writes the run's metrics
  if (root) {
    ASSIGN_OR_RETURN(metrics, MetricsLog::open(config.run.dir, resume.step));
  }

  const size_t held_out = in.held_out.size();
  SftDeps deps;
  deps.config = &config;
  deps.model = policy.model;
  deps.tokenizer = tokenizer.get();
  deps.train = std::move(in.train);
  deps.held_out = std::move(in.held_out);
  deps.metrics = metrics.get();
  deps.collective = in.collective;
  deps.logger = in.logger;
  deps.stop_requested = in.stop_requested;
  ASSIGN_OR_RETURN(std::unique_ptr<SftTrainer> trainer, SftTrainer::create(std::move(deps)));
  if (resume.checkpoint) {
    RETURN_IF_ERROR(trainer->restore(*resume.checkpoint));
    log_info(in.logger, "resumed from " + *resume.checkpoint);
  }
  const int64_t first_step = trainer->step();
  ASSIGN_OR_RETURN(SftOutcome outcome, trainer->run());
  if (!root) return outcome;
  metrics->close();

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double tokens_per_s = 0;
  int64_t logged = 0;
  for (const StepRecord& r : metrics->history(first_step + 1)) {
    auto it = r.values.find("tokens_per_s");
    if (it != r.values.end()) {
      tokens_per_s += it->second;
      ++logged;
    }
  }
  nlohmann::ordered_json summary;
  summary["steps"] = outcome.steps;
  summary["stop_reason"] = outcome.stop_reason;
  summary["best_step"] = outcome.best_step;
  summary["best_eval_loss"] =
      outcome.best_eval_loss ? nlohmann::json(*outcome.best_eval_loss) : nlohmann::json(nullptr);
  summary["model"] = outcome.model_dir;
  summary["train_examples"] = outcome.train_examples;
  summary["skipped_too_long"] = outcome.skipped_too_long;
  summary["held_out_examples"] = held_out;
  summary["seconds"] = seconds;
  summary["steps_per_s"] = seconds > 0 ? double(outcome.steps - first_step) / seconds : 0.0;
  summary["tokens_per_s"] = logged > 0 ? tokens_per_s / double(logged) : 0.0;
  RETURN_IF_ERROR(write_file_atomic(config.run.dir + "/sft.json", summary.dump(2) + "\n"));
  return outcome;
}

}  // namespace forge::rl
