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
// trainer.retire_solved: a prompt whose samples were all accurate (reward_stats.h's is_accurate;
// over every rank) is retired from the PromptSource after its round: it would only teach again
// once the policy forgot it.
// Ranks (rl/dist/): every rank draws the same prompts and generates its contiguous share of each
// round's (seeded by their place in the whole round, so the samples do not depend on the number of
// ranks); the kept counts are summed over the ranks, so every rank agrees on the next round's size
// and on which kept groups make the batch.
// Grading failures (an outcome with `error`: a sandbox that could not start, a crashed worker)
// are not wrong answers: those samples take no part in their group, and a step where more than
// reward.max_error_fraction of the samples (over every rank) failed is an error naming the cause.
// A round is three calls: draw() (the prompts, on the training thread), generate() (generation and
// grading: the only part that may run on another thread, as asynchronous GRPO's prefetch does for
// a step's first round) and collect(), which takes a first round made ahead or makes it itself.
// Not thread-safe, but for generate(): the training loop calls the rest (on every rank).
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "policy/tokenizer.h"
#include "reward/grading_backend.h"
#include "rl/config/run_config.h"
#include "rl/data/prompt_source.h"
#include "rl/dist/collective.h"
#include "rl/trainer/step_batch.h"
#include "rollout/generation_backend.h"

namespace forge::rl {

// One round of a step: this rank's share of its prompts, the request that generates them, and
// (after Collector::generate) their samples, graded.
struct CollectRound {
  int64_t step = 0;
  int round = 0;
  int64_t want = 0;                   // prompts in the round over every rank
  int64_t begin = 0;                  // this rank's first prompt's place in the round
  std::vector<int64_t> examples;      // [want] every rank's prompts' places in the dataset
  std::vector<PromptGroup> groups;    // this rank's share
  rollout::GenerationRequest request;
  int64_t generated_tokens = 0;
  double rollout_seconds = 0;         // generation, wall clock
  double reward_seconds = 0;
  double wait_seconds = -1;           // generated ahead: what the trainer waited for it; -1: not
};

struct CollectSettings {
  rollout::SamplingOptions sampling;  // rollout.* (n, temperature, ...); seed = run.seed
  rollout::PartialRollout partial = rollout::PartialRollout::kOff;  // rollout.partial_rollouts
                                                                    // (async only)
  bool return_routing = false;        // rollout.return_routing or trainer.routing_replay
  int64_t batch_size = 16;            // prompts per step
  bool dynamic_sampling = false;
  int max_gen_batches = 3;
  bool retire_solved = false;
  double max_error_fraction = 0.1;    // reward.max_error_fraction

  static CollectSettings from_config(const RunConfig& config);
};

class Collector {
 public:
  Collector(CollectSettings settings, PromptSource& prompts, const policy::Tokenizer& tokenizer,
            rollout::GenerationBackend& generation, const reward::GradingBackend& grading,
            Collective& collective);

  // The step's batch; `first`, when given, is its round 0 drawn and generated already.
  absl::StatusOr<CollectedBatch> collect(int64_t step, std::optional<CollectRound> first = {});

  // The next `want` prompts of the source as round `round` of `step` (every rank draws them all).
  CollectRound draw(int64_t step, int round, int64_t want);
  // Generates and grades the round's samples. Thread-safe (generation and grading are).
  absl::Status generate(CollectRound& round) const;

 private:
  // FailedPrecondition when too many of the step's samples could not be graded.
  absl::Status check_grading_errors(const CollectedBatch& batch);

  const CollectSettings settings_;
  PromptSource& prompts_;
  const policy::Tokenizer& tokenizer_;
  rollout::GenerationBackend& generation_;
  const reward::GradingBackend& grading_;
  Collective& collective_;
};

}  // namespace forge::rl
