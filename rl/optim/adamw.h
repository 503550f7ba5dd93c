// AdamW (Loshchilov & Hutter) over named parameters, with torch.optim.AdamW's exact update, and its
// state exposed by parameter name so checkpoints are portable between LibTorch versions (whose
// optimizer-state APIs differ) and readable as safetensors. Weight decay applies to matrices only
// (parameters with >= 2 dimensions), not to norm scales. A reduced-precision parameter (bf16) gets
// an fp32 master copy: the update runs on the master (fp32 moments, fp32 gradient) and the
// parameter is set to the master rounded to its dtype, so small updates accumulate instead of
// vanishing in bf16 rounding; the masters are part of the state. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"

namespace forge::rl {

class AdamW {
 public:
  struct Options {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
  };

  // `params`: (name, tensor) with requires_grad; the tensors are updated in place.
  AdamW(std::vector<std::pair<std::string, at::Tensor>> params, Options options);

  void zero_grad();
  // Clips the global L2 norm of the gradients to `max_norm` (0: no clipping); returns the norm
  // before clipping.
  double clip_grad_norm(double max_norm);
  // One update at learning rate `lr`; parameters without a gradient are skipped, and so are those
  // this optimizer does not own (set_owned).
  void step(double lr);

  // ZeRO-1: only the parameters flagged here (one flag per parameter, in order) are updated and
  // keep state; the others are another rank's. Default: all of them.
  void set_owned(std::vector<bool> owned);
  bool owns(size_t i) const { return owned_.empty() || owned_[i]; }
  size_t size() const { return slots_.size(); }
  const std::string& name(size_t i) const { return slots_[i].name; }
  const at::Tensor& param(size_t i) const { return slots_[i].param; }

  int64_t steps() const { return step_; }
  // "<name>.exp_avg", "<name>.exp_avg_sq" for every parameter that has state, "<name>.master" for
  // every reduced-precision one, plus "__step__".
  std::vector<std::pair<std::string, at::Tensor>> state_tensors() const;
  // Restores what state_tensors() wrote (the owned parameters' entries; others are ignored); errors
  // name the missing or misshapen entry. A master absent from `state` is taken from the parameter.
  absl::Status load_state(const std::map<std::string, at::Tensor>& state);

 private:
  struct Slot {
    std::string name;
    at::Tensor param;
    at::Tensor exp_avg;     // undefined until the first step that sees a gradient
    at::Tensor exp_avg_sq;
    at::Tensor master;      // fp32 copy of a reduced-precision parameter; undefined for fp32 ones
  };
  std::vector<Slot> slots_;
  std::vector<bool> owned_;  // empty: every slot
  Options options_;
  int64_t step_ = 0;
};

}  // namespace forge::rl
