#include "rl/grpo/policy_loss.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"

namespace forge::rl {
namespace {

double masked_mean_value(const at::Tensor& values, const at::Tensor& mask) {
  const double count = mask.sum().item<double>();
  if (count == 0) return 0.0;
  return (values * mask).sum().item<double>() / count;
}

}  // namespace

absl::StatusOr<LossAggMode> parse_loss_agg_mode(const std::string& name) {
  return parse_enum(name, loss_agg_mode_names(), "loss_agg_mode");
}

absl::StatusOr<KlEstimator> parse_kl_estimator(const std::string& name) {
  return parse_enum(name, kl_estimator_names(), "kl_estimator");
}

at::Tensor aggregate_loss(const at::Tensor& values, const at::Tensor& mask, LossAggMode mode,
                          int norm_length, double total_tokens, double total_sequences) {
  const at::Tensor m = mask.to(values.scalar_type());
  const double sequences = total_sequences > 0 ? total_sequences : double(values.size(0));
  switch (mode) {
    case LossAggMode::kTokenMean: {
      const double tokens = total_tokens > 0 ? total_tokens : m.sum().item<double>();
      return (values * m).sum() / std::max(tokens, 1.0);
    }
    case LossAggMode::kSeqMeanTokenMean: {
      const at::Tensor per_seq = (values * m).sum(1) / m.sum(1).clamp_min(1);  // [N]
      return per_seq.sum() / sequences;
    }
    case LossAggMode::kSeqMeanTokenSum:
      return (values * m).sum() / sequences;
    case LossAggMode::kSeqMeanTokenSumNorm: {
      const double length = norm_length > 0 ? norm_length : double(values.size(1));
      return (values * m).sum() / (sequences * length);
    }
  }
  return (values * m).sum();
}

at::Tensor kl_penalty(const at::Tensor& log_probs, const at::Tensor& log_probs_ref,
                      KlEstimator estimator) {
  switch (estimator) {
    case KlEstimator::kK1:
      return log_probs - log_probs_ref;
    case KlEstimator::kK2:
      return 0.5 * (log_probs - log_probs_ref).pow(2);
    case KlEstimator::kK3: {
      // verl's low_var_kl: clamped for numerical safety.
      const at::Tensor kl = (log_probs_ref - log_probs).clamp(-20, 20);
      return (at::exp(kl) - kl - 1).clamp(-10, 10);
    }
  }
  return log_probs - log_probs_ref;
}

PolicyLossOutput compute_policy_loss(const PolicyLossInputs& in, const PolicyLossConfig& config) {
  const at::Tensor& adv = in.advantages;
  const at::Tensor mask = in.mask.to(at::kFloat);
  TORCH_CHECK(in.log_probs_new.sizes() == mask.sizes() && in.log_probs_old.sizes() == mask.sizes() &&
                  adv.sizes() == mask.sizes(),
              "policy loss inputs must all be [N, T]");
  auto agg = [&](const at::Tensor& v) {
    return aggregate_loss(v, mask, config.agg, config.norm_length, in.total_tokens,
                          in.total_sequences);
  };

  // PPO clipped surrogate (verl compute_policy_loss, "vanilla").
  const at::Tensor log_ratio = (in.log_probs_new - in.log_probs_old).clamp(-20.0, 20.0);
  const at::Tensor ratio = at::exp(log_ratio);                                     // [N, T]
  const at::Tensor losses1 = -adv * ratio;
  const at::Tensor losses2 =
      -adv * ratio.clamp(1.0 - config.clip_ratio_low, 1.0 + config.clip_ratio_high);
  const at::Tensor clipped = at::maximum(losses1, losses2);                        // [N, T]
  at::Tensor pg_losses = clipped;
  PolicyLossOutput out;
  out.clip_fraction = masked_mean_value(losses2.gt(losses1).to(at::kFloat), mask);
  if (config.clip_ratio_c > 0) {
    // Dual clip: for negative advantages the loss is bounded by -A * c.
    const at::Tensor losses3 = -adv * config.clip_ratio_c;
    const at::Tensor dual = at::minimum(losses3, clipped);
    out.clip_fraction_lower = masked_mean_value(
        (clipped.gt(losses3) & adv.lt(0)).to(at::kFloat), mask);
    pg_losses = at::where(adv.lt(0), dual, clipped);
  }
  if (config.tis_cap > 0) {
    TORCH_CHECK(in.log_probs_rollout.has_value(), "tis_cap > 0 needs the rollout log-probs");
    // Truncated importance sampling: correct for the rollout engine's sampling distribution.
    const at::Tensor weight =
        at::exp(in.log_probs_old - *in.log_probs_rollout).clamp_max(config.tis_cap).detach();
    pg_losses = pg_losses * weight;
    out.importance_weight_mean = masked_mean_value(weight, mask);
  }
  at::Tensor loss = agg(pg_losses);
  out.pg_loss = loss.item<double>();
  out.approx_kl = masked_mean_value((in.log_probs_old - in.log_probs_new).detach(), mask);

  if (config.kl_coef > 0) {
    TORCH_CHECK(in.log_probs_ref.has_value(), "kl_coef > 0 needs the reference log-probs");
    const at::Tensor kl = agg(kl_penalty(in.log_probs_new, *in.log_probs_ref, config.kl_estimator));
    out.kl = kl.item<double>();
    loss = loss + config.kl_coef * kl;
  }
  if (in.entropy.has_value()) {
    const at::Tensor entropy = agg(*in.entropy);
    out.entropy = entropy.item<double>();
    if (config.entropy_coef != 0) loss = loss - config.entropy_coef * entropy;
  }
  out.loss = loss;
  return out;
}

}  // namespace forge::rl
