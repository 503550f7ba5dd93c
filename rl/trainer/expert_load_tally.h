// Tokens routed to each expert, summed over the training forwards of a step, and the step's
// moe/load_imbalance: the mean over MoE layers of max(load) / mean(load) (1 = perfect balance).
// Shared by the GRPO update and SFT; sum_over_ranks() makes it the whole job's load.
// Not thread-safe.
#pragma once

#include <map>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "policy/model.h"
#include "rl/dist/collective.h"

namespace forge::rl {

class ExpertLoadTally {
 public:
  // Zero load for every MoE layer of `model` (so every rank of a job tallies the same layers).
  explicit ExpertLoadTally(const policy::ModelImpl& model) {
    for (const policy::ExpertLoad& l : model.expert_load()) {
      load_[l.layer] = at::zeros(l.load.sizes(), at::kDouble);  // [E]
    }
  }

  // Adds the load of the model's last forward (policy::ModelImpl::expert_load()).
  void add(const std::vector<policy::ExpertLoad>& loads) {
    for (const policy::ExpertLoad& l : loads) load_[l.layer] += l.load.to(at::kDouble);
  }

  absl::Status sum_over_ranks(Collective& collective) {
    if (collective.world_size() == 1) return absl::OkStatus();
    std::vector<at::Tensor> loads;
    for (auto& [layer, l] : load_) loads.push_back(l);
    return collective.all_reduce_sum(loads);
  }

  // 1 when nothing was routed (a dense model).
  double imbalance() const {
    if (load_.empty()) return 1.0;
    double sum = 0;
    for (const auto& [layer, l] : load_) {
      const double mean = l.mean().item<double>();
      sum += mean > 0 ? l.max().item<double>() / mean : 1.0;
    }
    return sum / static_cast<double>(load_.size());
  }

 private:
  std::map<int, at::Tensor> load_;  // layer -> [E] fp64 tokens
};

}  // namespace forge::rl
