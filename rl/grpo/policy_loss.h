// The GRPO/PPO policy loss with verl's knobs and names: asymmetric clipping (DAPO clip-higher),
// optional dual clip, four loss aggregation modes, KL to a reference policy (k1/k2/k3, in the loss),
// an entropy bonus, and truncated importance sampling against the rollout's log-probs. With
// log_probs_old from the trainer's policy before the update (the proximal policy) and the rollout's
// from an older one, that is decoupled PPO (Hilton et al. 2022; AReaL): the ratio is clipped around
// the proximal policy and min(pi_prox / pi_behaviour, tis_cap) corrects for the stale sampler.
#pragma once

#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "rl/grpo/grpo_options.h"

namespace forge::rl {

// By config name (grpo_options.h); InvalidArgument listing the names otherwise.
absl::StatusOr<LossAggMode> parse_loss_agg_mode(const std::string& name);
absl::StatusOr<KlEstimator> parse_kl_estimator(const std::string& name);

struct PolicyLossConfig {
  double clip_ratio_low = 0.2;    // ratio clipped to [1 - low, 1 + high]
  double clip_ratio_high = 0.2;   // DAPO's clip-higher: e.g. 0.28
  double clip_ratio_c = 0.0;      // dual clip for negative advantages (e.g. 3.0); 0 = off
  LossAggMode agg = LossAggMode::kTokenMean;
  int norm_length = 0;            // kSeqMeanTokenSumNorm's constant; 0 = mask.size(1)
  double kl_coef = 0.0;           // 0 = no KL term (and no reference policy needed)
  KlEstimator kl_estimator = KlEstimator::kK3;
  double entropy_coef = 0.0;      // bonus: loss -= entropy_coef * agg(entropy)
  double tis_cap = 0.0;           // truncated importance sampling cap; 0 = off
};

// All [N, T] fp32 over response tokens. Only log_probs_new carries gradient.
struct PolicyLossInputs {
  at::Tensor log_probs_new;                    // current policy
  at::Tensor log_probs_old;                    // policy that the ratio is taken against
  at::Tensor advantages;
  at::Tensor mask;                             // 0/1
  std::optional<at::Tensor> log_probs_ref;     // needed when kl_coef > 0
  std::optional<at::Tensor> entropy;           // needed when entropy_coef > 0 (may carry grad)
  std::optional<at::Tensor> log_probs_rollout; // needed when tis_cap > 0
  // Denominators for aggregation over a whole mini-batch when this call sees one micro-batch of it:
  // the mini-batch's total mask sum and sequence count. 0 = this call's own (then micro-batch losses
  // summed over a mini-batch equal the mini-batch loss only for kSeqMean* modes).
  double total_tokens = 0;
  double total_sequences = 0;
};

struct PolicyLossOutput {
  at::Tensor loss;              // scalar, differentiable w.r.t. log_probs_new (and entropy)
  double pg_loss = 0;           // the clipped surrogate, aggregated
  double kl = 0;                // aggregated KL to the reference (0 when off)
  double entropy = 0;           // aggregated entropy (0 when not given)
  double clip_fraction = 0;     // fraction of tokens where clipping changed the loss
  double clip_fraction_lower = 0;  // fraction where the dual clip bound applied
  double approx_kl = 0;         // masked mean of (log_probs_old - log_probs_new)
  double importance_weight_mean = 1;  // masked mean of the truncated importance weights
                                      // (1 when tis_cap is 0)
};

PolicyLossOutput compute_policy_loss(const PolicyLossInputs& in, const PolicyLossConfig& config);

// Aggregates [N, T] values into a scalar with `mode` (exposed for entropy/KL metrics and tests).
at::Tensor aggregate_loss(const at::Tensor& values, const at::Tensor& mask, LossAggMode mode,
                          int norm_length = 0, double total_tokens = 0,
                          double total_sequences = 0);

// Per-token KL estimate between the current and the reference policy ([N, T]).
at::Tensor kl_penalty(const at::Tensor& log_probs, const at::Tensor& log_probs_ref,
                      KlEstimator estimator);

}  // namespace forge::rl
