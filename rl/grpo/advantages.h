// Advantage estimators for outcome rewards (one scalar reward per completion), with verl's names
// and formulas: grpo, dr_grpo, rloo, reinforce_plus_plus, reinforce_plus_plus_baseline.
#pragma once

#include <functional>
#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "rl/grpo/grpo_options.h"

namespace forge::rl {

// By config name (grpo_options.h); InvalidArgument listing the names otherwise.
absl::StatusOr<AdvantageEstimator> parse_advantage_estimator(const std::string& name);

// Sums a tensor over the ranks of a data-parallel job (nullptr: one rank); throws on failure.
using SumOverRanks = std::function<at::Tensor(at::Tensor)>;

// scores:    [N] fp32, one reward per completion.
// group_ids: [N] int64, completions of the same prompt share an id (groups need not be contiguous).
// mask:      [N, T] (0/1) response-token mask.
// Returns    [N, T] fp32 advantages, zero where mask is 0. Group std is the unbiased one (torch.std);
// a group of one sample gets advantage 0 (grpo/dr_grpo/rloo), as in verl. Groups are local to a
// rank; the batch-level whitening (reinforce_plus_plus*) uses `sum` to whiten over every rank.
at::Tensor compute_advantages(AdvantageEstimator estimator, const at::Tensor& scores,
                              const at::Tensor& group_ids, const at::Tensor& mask,
                              double eps = 1e-6, const SumOverRanks& sum = nullptr);

}  // namespace forge::rl
