// Scores the response tokens of a packed batch under the policy: per-token log-probabilities (the
// policy's one token_log_probs over temperature-scaled logits, exactly what the rollout engine
// reports) and per-token entropy, both [n, C]. With grad, for training; without, for old and
// reference log-probs. Used by GRPO and SFT.
#pragma once

#include <ATen/ATen.h>

#include "policy/model.h"
#include "rl/trainer/packed_batch.h"

namespace forge::rl {

struct ResponseScores {
  at::Tensor log_probs;  // [n, C] fp32, 0 where response_mask is 0
  at::Tensor entropy;    // [n, C] fp32 (undefined unless asked for)
  at::Tensor aux_loss;   // scalar: the model's MoE sequence-wise auxiliary loss (0 when off)
};

ResponseScores score_responses(policy::ModelImpl& model, const PackedBatch& batch,
                               double temperature, bool with_entropy);

}  // namespace forge::rl
