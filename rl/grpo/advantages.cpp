#include "rl/grpo/advantages.h"

#include <map>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"

namespace forge::rl {
namespace {

// Whitening over the masked tokens of the whole batch (verl's masked_whiten, unbiased variance);
// with `sum`, over the tokens of every rank.
at::Tensor masked_whiten(const at::Tensor& values, const at::Tensor& mask, double eps,
                         const SumOverRanks& sum) {
  const at::Tensor m = mask.to(at::kFloat);
  at::Tensor count = m.sum();
  at::Tensor total = (values * m).sum();
  if (sum) {
    const at::Tensor both = sum(at::stack({total, count}));  // [2]
    total = both[0];
    count = both[1];
  }
  const at::Tensor mean = total / count;
  const at::Tensor centered = values - mean;
  at::Tensor squares = (centered.pow(2) * m).sum();
  if (sum) squares = sum(squares.reshape({1}))[0];
  at::Tensor var = squares / count;
  var = var * count / (count - 1).clamp_min(1);  // Bessel's correction
  return centered * at::rsqrt(var + 1e-8) * m;
}

}  // namespace

absl::StatusOr<AdvantageEstimator> parse_advantage_estimator(const std::string& name) {
  return parse_enum(name, advantage_estimator_names(), "advantage estimator");
}

at::Tensor compute_advantages(AdvantageEstimator estimator, const at::Tensor& scores,
                              const at::Tensor& group_ids, const at::Tensor& mask, double eps,
                              const SumOverRanks& sum) {
  TORCH_CHECK(scores.dim() == 1, "scores must be [N]");
  TORCH_CHECK(group_ids.dim() == 1 && group_ids.size(0) == scores.size(0), "group_ids must be [N]");
  TORCH_CHECK(mask.dim() == 2 && mask.size(0) == scores.size(0), "mask must be [N, T]");
  const at::Tensor s = scores.to(at::kFloat);
  const at::Tensor m = mask.to(at::kFloat);

  if (estimator == AdvantageEstimator::kReinforcePlusPlus) {
    return masked_whiten(s.unsqueeze(1).expand_as(m), m, eps, sum);  // [N, T]
  }

  // Per-group statistics.
  const at::Tensor ids = group_ids.to(at::kLong);
  at::Tensor per_sample = at::zeros_like(s);  // [N]
  const auto ids_acc = ids.contiguous();
  std::map<int64_t, std::vector<int64_t>> groups;
  const int64_t* id_ptr = ids_acc.data_ptr<int64_t>();
  for (int64_t i = 0; i < s.size(0); ++i) groups[id_ptr[i]].push_back(i);
  for (const auto& [id, members] : groups) {
    const at::Tensor index = at::tensor(members, at::kLong);
    const at::Tensor g = s.index_select(0, index);  // [G]
    const int64_t n = g.size(0);
    at::Tensor adv;
    if (n < 2) {
      adv = at::zeros_like(g);
    } else if (estimator == AdvantageEstimator::kGrpo) {
      adv = (g - g.mean()) / (g.std(/*unbiased=*/true) + eps);
    } else if (estimator == AdvantageEstimator::kRloo) {
      adv = g * (double(n) / (n - 1)) - g.mean() * (double(n) / (n - 1));
    } else {  // kDrGrpo, kReinforcePlusPlusBaseline
      adv = g - g.mean();
    }
    per_sample.index_copy_(0, index, adv);
  }
  if (estimator == AdvantageEstimator::kReinforcePlusPlusBaseline) {
    return masked_whiten(per_sample.unsqueeze(1).expand_as(m), m, eps, sum);  // [N, T]
  }
  return per_sample.unsqueeze(1) * m;  // [N, T]
}

}  // namespace forge::rl
