// The GRPO step's named options, with verl's names: how advantages are estimated, how per-token
// losses are aggregated, which KL estimator is used, and where the "old" log-probs of the ratio come
// from. Run configs hold them as these enums (resolved once at load, rl/config/run_config.h);
// the tables give each value its config name.
#pragma once

#include "base/enum_names.h"

namespace forge::rl {

enum class AdvantageEstimator {
  kGrpo,                        // (r - mean_g) / (std_g + eps)             (DeepSeekMath, verl "grpo")
  kDrGrpo,                      // r - mean_g                                 (Dr. GRPO: no std)
  kRloo,                        // r - mean of the other samples of the group (RLOO)
  kReinforcePlusPlus,           // r whitened over the whole batch's tokens   (REINFORCE++)
  kReinforcePlusPlusBaseline,   // (r - mean_g), then whitened over the batch's tokens
};

// How per-token losses become one number (verl's loss_agg_mode).
enum class LossAggMode {
  kTokenMean,              // sum(loss * mask) / sum(mask)                      (DAPO)
  kSeqMeanTokenMean,       // mean over sequences of each sequence's token mean  (GRPO paper)
  kSeqMeanTokenSum,        // mean over sequences of each sequence's token sum
  kSeqMeanTokenSumNorm,    // sum(loss * mask) / (num sequences * norm_length)   (Dr. GRPO)
};

enum class KlEstimator {
  kK1,  // log p - log p_ref
  kK2,  // 0.5 (log p - log p_ref)^2
  kK3,  // exp(log p_ref - log p) - (log p_ref - log p) - 1   (Schulman's low-variance estimator)
};

// The policy the PPO ratio is taken against.
enum class OldLogProbs {
  kRecompute,  // the trainer's policy before this step's updates, recomputed
  kRollout,    // the log-probs the rollout engine reported with each token
};

inline const EnumNames<AdvantageEstimator>& advantage_estimator_names() {
  static const EnumNames<AdvantageEstimator> names = {
      {"grpo", AdvantageEstimator::kGrpo},
      {"dr_grpo", AdvantageEstimator::kDrGrpo},
      {"rloo", AdvantageEstimator::kRloo},
      {"reinforce_plus_plus", AdvantageEstimator::kReinforcePlusPlus},
      {"reinforce_plus_plus_baseline", AdvantageEstimator::kReinforcePlusPlusBaseline}};
  return names;
}

inline const EnumNames<LossAggMode>& loss_agg_mode_names() {
  static const EnumNames<LossAggMode> names = {
      {"token-mean", LossAggMode::kTokenMean},
      {"seq-mean-token-mean", LossAggMode::kSeqMeanTokenMean},
      {"seq-mean-token-sum", LossAggMode::kSeqMeanTokenSum},
      {"seq-mean-token-sum-norm", LossAggMode::kSeqMeanTokenSumNorm}};
  return names;
}

inline const EnumNames<KlEstimator>& kl_estimator_names() {
  static const EnumNames<KlEstimator> names = {
      {"k1", KlEstimator::kK1}, {"k2", KlEstimator::kK2}, {"k3", KlEstimator::kK3}};
  return names;
}

inline const EnumNames<OldLogProbs>& old_log_probs_names() {
  static const EnumNames<OldLogProbs> names = {{"recompute", OldLogProbs::kRecompute},
                                               {"rollout", OldLogProbs::kRollout}};
  return names;
}

}  // namespace forge::rl
