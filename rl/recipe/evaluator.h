// `forge eval`'s engine: samples every held-out prompt through a GenerationBackend -- one greedy
// sample, k samples at the low temperature (top-p), k at the high temperature (top-p 1) -- grades
// them through a GradingBackend (sample_grader.h) and builds the report (eval_report.h).
//
// Prompts are encode_prompt(template.render(prompt)) (bos first when the tokenizer adds one), as in
// training. The three requests go to the backend together (generate_all), so an in-process engine
// runs them in shared decode steps; each sample has its own generator seeded from (seed, prompt,
// sample) (rollout/request.h), so a report is a function of (weights, data, options) -- on the CPU
// with a fixed thread count, bit for bit.
// Samples are joined to their prompts by (prompt_index, sample_index).
// Thread-safety: functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "policy/model.h"
#include "policy/tokenizer.h"
#include "reward/grading_backend.h"
#include "rl/data/chat_template.h"
#include "rl/data/dataset.h"
#include "rl/recipe/eval_report.h"
#include "rollout/engine.h"
#include "rollout/generation_backend.h"

namespace forge::rl {

struct EvalOptions {
  int k = 8;
  int max_new_tokens = 128;
  double temperature = 0.6;       // the low temperature (R1's pass@1)
  double top_p = 0.95;            // at the low temperature
  double high_temperature = 1.0;  // top_p 1
  uint64_t seed = 1;
  int max_batch_size = 256;  // sequences decoded together
  int64_t cache_bytes = int64_t{256} << 20;
};

struct EvalRun {
  std::vector<PromptResult> prompts;  // in the order of the examples
  nlohmann::ordered_json report;      // eval_report() + "settings" + "seconds"
  double generate_seconds = 0;
  double grade_seconds = 0;
  int64_t generated_tokens = 0;
};

// tokenizer.encode_prompt(chat.render(example.prompt)) for every example ([bos] + the text).
std::vector<std::vector<int32_t>> encode_prompts(const std::vector<Example>& examples,
                                                 const policy::Tokenizer& tokenizer,
                                                 const ChatTemplate& chat);

// The sizes of an in-process engine that holds the whole evaluation at once: every sequence
// queued, each slot the longest prompt + max_new_tokens (InvalidArgument naming
// eval.max_new_tokens when that exceeds `max_positions`, the model's max_position_embeddings).
absl::StatusOr<rollout::EngineOptions> eval_engine_options(
    const std::vector<std::vector<int32_t>>& prompts, int max_positions,
    const EvalOptions& options);

// `examples` non-empty, `prompts` = encode_prompts(examples, ...); each example is checked with
// check_gradable before anything is generated.
absl::StatusOr<EvalRun> evaluate(rollout::GenerationBackend& generation,
                                 const reward::GradingBackend& grading, const ChatTemplate& chat,
                                 const std::vector<Example>& examples,
                                 const std::vector<std::vector<int32_t>>& prompts,
                                 const EvalOptions& options);

// evaluate() with an in-process engine over `model` sized by eval_engine_options (forge eval).
absl::StatusOr<EvalRun> evaluate_in_process(policy::Model model,
                                            std::shared_ptr<const policy::Tokenizer> tokenizer,
                                            const ChatTemplate& chat,
                                            const reward::GradingBackend& grading,
                                            const std::vector<Example>& examples,
                                            const EvalOptions& options);

// "greedy 0.870  pass1_t06 0.812  pass1_t1 0.640  pass@8 0.980  maj@8 0.900  format 0.970 len 45.1"
std::string eval_summary_line(const nlohmann::ordered_json& group);

}  // namespace forge::rl
