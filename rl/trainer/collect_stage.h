// collect, the first stage of a GRPO step: prompts -> generation -> grading -> groups.
//
// A round takes the next prompts from the PromptSource, asks the GenerationBackend for rollout.n
// samples of each (encode_prompt(prompt text), seeded from (run.seed, step, round)), and puts every
// completion in its group by (prompt_index, sample_index): they may arrive in any order, and each
// must arrive exactly once. Each sample's response (the prompt's response prefix + the completion's
// text) is graded in one call to the GradingBackend; outcomes are joined back by item id.
// Dynamic sampling (DAPO): groups whose samples all got the same reward are dropped and the next
// round asks for as many prompts as are still missing, at most trainer.max_gen_batches rounds; the
// kept groups are cut to trainer.batch_size.
// Not thread-safe: the training loop calls it.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "policy/tokenizer.h"
#include "reward/grading_backend.h"
#include "rl/config/run_config.h"
#include "rl/data/prompt_source.h"
#include "rl/trainer/step_batch.h"
#include "rollout/generation_backend.h"

namespace forge::rl {

struct CollectSettings {
  rollout::SamplingOptions sampling;  // rollout.* (n, temperature, ...); seed = run.seed
  int64_t batch_size = 16;            // prompts per step
  bool dynamic_sampling = false;
  int max_gen_batches = 3;

  static CollectSettings from_config(const RunConfig& config);
};

class Collector {
 public:
  Collector(CollectSettings settings, PromptSource& prompts, const policy::Tokenizer& tokenizer,
            rollout::GenerationBackend& generation, const reward::GradingBackend& grading);

  absl::StatusOr<CollectedBatch> collect(int64_t step);

 private:
  // One round: `want` prompts generated and graded, appended to `batch.groups`.
  absl::Status collect_round(int64_t step, int round, int64_t want, CollectedBatch& batch);

  const CollectSettings settings_;
  PromptSource& prompts_;
  const policy::Tokenizer& tokenizer_;
  rollout::GenerationBackend& generation_;
  const reward::GradingBackend& grading_;
};

}  // namespace forge::rl
