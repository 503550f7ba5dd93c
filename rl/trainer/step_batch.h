// What passes between the stages of one GRPO step (grpo_trainer.h):
//
//   collect ──CollectedBatch──► score ──ScoredBatch──► update ──UpdateStats──► publish ─► record
//
// Plain values: each stage reads the one before it and nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "reward/grader.h"
#include "rl/data/prompt_source.h"
#include "rl/trainer/packed_batch.h"
#include "rollout/request.h"

namespace forge::rl {

// One sampled completion of a prompt and its grade.
struct Sample {
  rollout::Completion completion;  // prompt_index / sample_index name its place in the step
  std::string response;            // what was graded: the prompt's response prefix + the text
  reward::GradeOutcome grade;
};

// A prompt and its rollout.n samples: the unit GRPO's advantages compare within.
struct PromptGroup {
  SourcedPrompt prompt;
  std::vector<int32_t> prompt_ids;  // encode_prompt(prompt.text): what the policy continued
  std::vector<Sample> samples;      // samples[i] has sample_index i

  // Every graded sample got the same reward (the group teaches nothing: dynamic sampling drops
  // it). Samples whose grading failed (grade.error) take no part.
  bool rewards_all_equal() const;
  // At least one sample was graded, and every graded one was accurate (reward_stats.h).
  bool all_accurate() const;
};

// collect's output: every group this rank generated this step and the ones to train on. With
// several ranks (rl/dist/) each generates its share of the step's prompts; the kept groups of all
// ranks, in prompt order, are the step's batch.
struct CollectedBatch {
  std::vector<PromptGroup> groups;  // this rank's, in generation order (round, then prompt)
  std::vector<size_t> kept;         // indices into groups, in order
  std::vector<int64_t> kept_index;  // each kept group's place in the job's batch [0, kept_total)
  int64_t kept_total = 0;           // groups kept over every rank: at most trainer.batch_size
  int64_t dropped_groups = 0;       // groups dynamic sampling left out for equal rewards (this rank)
  int64_t retired_prompts = 0;      // prompts retired this step (retire_solved; every rank's)
  int64_t retired_total = -1;       // ... and by now, of the whole source; -1: retire_solved off
  int64_t generated_tokens = 0;
  double rollout_seconds = 0;     // what the step waited for generation (time/rollout)
  double reward_seconds = 0;      // ... and for grading (time/reward)
  double generation_seconds = 0;  // the generation's own wall clock (more than rollout_seconds
                                  // when a round was generated ahead, rollout_prefetch.h)
};

// score's output: the kept samples flattened into rows, group after group, with their advantages.
// Samples whose grading failed have no row.
struct ScoredBatch {
  std::vector<TokenSequence> sequences;            // [N] prompt + response tokens per row
  std::vector<std::vector<int64_t>> rows_of_group;  // kept group g -> its rows
  std::vector<int64_t> group_index;                // kept group g's place in the job's batch
  int64_t total_groups = 0;                        // groups in the job's batch (every rank)
  at::Tensor advantages;         // [N, C] fp32
  at::Tensor rollout_log_probs;  // [N, C] fp32: what the rollout engine reported, 0 past the end
  at::Tensor response_mask;      // [N, C] fp32: 1 for real response tokens
  at::Tensor loss_mask;          // [N, C] fp32: response_mask, 0 for rows the loss leaves out
  std::vector<int64_t> oldest_version;  // [N] the policy version of each row's first token
  // [N] the experts the rollout routed each row's tokens to (rollout::Completion::routed_experts),
  // or empty when it recorded none.
  std::vector<std::vector<int32_t>> routed_experts;
  int32_t routing_layers = 0;
  int32_t routing_top_k = 0;
};

// update's output (DESIGN.md's metric names; means over the step's optimizer steps).
struct UpdateStats {
  double loss = 0;
  double kl = 0;
  double entropy = 0;
  double clip_fraction = 0;
  double grad_norm = 0;
  double lr = 0;
  double logprob_mismatch = 0;  // mean |rollout - recomputed| log-prob over response tokens
  double load_imbalance = 1;    // moe/load_imbalance: max / mean expert load, averaged over layers
  int64_t trained_tokens = 0;
  double seconds = 0;
  // Set only where they apply (rollout.max_staleness > 0; a rollout that recorded routing):
  std::optional<double> staleness_mean;          // async/staleness_mean (versions)
  std::optional<double> staleness_max;           // async/staleness_max
  std::optional<double> importance_weight_mean;  // async/importance_weight_mean: the truncated
                                                 // weights pi_prox / pi_behaviour, token mean
  std::optional<double> routing_agreement;       // moe/routing_agreement
};

}  // namespace forge::rl
