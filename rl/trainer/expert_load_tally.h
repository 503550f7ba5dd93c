// Tokens routed to each expert, summed over the training forwards of a step, and the step's
// moe/load_imbalance: the mean over MoE layers of max(load) / mean(load) (1 = perfect balance).
// Shared by the GRPO update and SFT. Not thread-safe.
#pragma once

#include <map>
#include <vector>

#include <ATen/ATen.h>

#include "policy/model.h"

namespace forge::rl {

class ExpertLoadTally {
 public:
  // Adds the load of the model's last forward (policy::ModelImpl::expert_load()).
  void add(const std::vector<policy::ExpertLoad>& loads) {
    for (const policy::ExpertLoad& l : loads) {
      auto it = load_.find(l.layer);
      if (it == load_.end()) {
        load_[l.layer] = l.load.to(at::kDouble);  // [E]
      } else {
        it->second += l.load.to(at::kDouble);
      }
    }
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
