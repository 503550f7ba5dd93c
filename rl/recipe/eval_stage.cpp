#include "rl/recipe/eval_stage.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "reward/grader.h"
#include "rl/policy_loader.h"
#include "rl/recipe/evaluator.h"

namespace forge::rl {

absl::StatusOr<EvalStageResult> run_eval_stage(RunConfig config, const std::string& checkpoint,
                                               const std::string& data_arg) {
  if (!checkpoint.empty()) config.model.checkpoint = checkpoint;
  std::string data = data_arg;
  if (data.empty()) data = config.eval.data.empty() ? config.data.eval : config.eval.data;
  if (data.empty()) {
    return absl::InvalidArgumentError("no held-out data: give --data, eval.data or data.eval");
  }
  ASSIGN_OR_RETURN(std::vector<Example> examples, load_jsonl(data));
  if (config.eval.max_prompts > 0 &&
      static_cast<int>(examples.size()) > config.eval.max_prompts) {
    examples.resize(config.eval.max_prompts);
  }
  ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::create(config.data.template_name));
  const int threads = set_torch_threads(config.run.threads);
  ASSIGN_OR_RETURN(LoadedPolicy policy,
                   load_policy(config.model, config.run.seed, config.run.device));
  ASSIGN_OR_RETURN(std::unique_ptr<policy::Tokenizer> tokenizer,
                   load_tokenizer(config.tokenizer, policy.config));
  ASSIGN_OR_RETURN(std::unique_ptr<reward::Grader> grader,
                   reward::Grader::create(reward_config_of(config)));

  EvalOptions options;
  options.k = config.eval.k;
  options.max_new_tokens = config.eval.max_new_tokens > 0 ? config.eval.max_new_tokens
                                                          : config.rollout.max_new_tokens;
  options.temperature = config.eval.temperature;
  options.top_p = config.eval.top_p;
  options.high_temperature = config.eval.high_temperature;
  options.seed = static_cast<uint64_t>(config.eval.seed);
  options.max_batch_size = config.eval.max_batch_size;
  options.cache_bytes = config.rollout.cache_mb << 20;
  ASSIGN_OR_RETURN(
      EvalRun run,
      evaluate_in_process(policy.model, std::shared_ptr<const policy::Tokenizer>(std::move(tokenizer)),
                          chat, *grader, examples, options));

  EvalStageResult out;
  out.report = run.report;
  out.report["checkpoint"] = policy.checkpoint.empty() ? "run.seed" : policy.checkpoint;
  out.report["data"] = data;
  out.report["threads"] = threads;
  out.summary = absl::StrCat("forge eval: ", examples.size(), " prompts, k=", options.k, ": ",
                             eval_summary_line(out.report["all"]),
                             absl::StrFormat("  (%.1fs generate, %.1fs grade)",
                                             run.generate_seconds, run.grade_seconds));
  return out;
}

}  // namespace forge::rl
