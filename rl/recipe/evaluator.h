// `forge eval`'s engine: samples every held-out prompt with an in-process rollout::Engine
// (continuous batching over the latent KV cache, the same code the rollout workers run) -- one
// greedy sample, k samples at the low temperature (top-p), k at the high temperature (top-p 1) --
// grades them in-process (sample_grader.h) and builds the report (eval_report.h).
//
// Prompts are [bos] + encode(template.render(prompt)), as in training. The three requests are
// submitted together so they share decode steps; each sample has its own generator seeded from
// (seed, prompt, sample) (rollout/request.h), so a report is a function of (weights, data, options)
// -- on the CPU with a fixed thread count, bit for bit.
// Thread-safety: functions; `evaluate` owns the engine it builds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "policy/model.h"
#include "policy/tokenizer.h"
#include "reward/grader.h"
#include "rl/data/chat_template.h"
#include "rl/data/dataset.h"
#include "rl/recipe/eval_report.h"

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

// `examples` non-empty; each is checked with check_gradable before anything is generated.
absl::StatusOr<EvalRun> evaluate(policy::Model model,
                                 std::shared_ptr<const policy::Tokenizer> tokenizer,
                                 const ChatTemplate& chat, const reward::Grader& grader,
                                 const std::vector<Example>& examples, const EvalOptions& options);

// "greedy 0.870  pass1_t06 0.812  pass1_t1 0.640  pass@8 0.980  maj@8 0.900  format 0.970 len 45.1"
std::string eval_summary_line(const nlohmann::ordered_json& group);

}  // namespace forge::rl
