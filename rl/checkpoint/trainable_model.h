// The model a training stage updates, with its AdamW and its checkpoints: the setup the GRPO and
// SFT trainers share. Checkpoints go to <run_dir>/checkpoints (the newest `keep_last` kept,
// checkpointer.h); restore() loads the weights and the optimizer state of one.
// Not thread-safe: one training loop owns it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "policy/model.h"
#include "rl/checkpoint/checkpointer.h"
#include "rl/optim/adamw.h"

namespace forge::rl {

class TrainableModel {
 public:
  // AdamW over every named parameter of `model`.
  TrainableModel(policy::Model model, const AdamW::Options& options, const std::string& run_dir,
                 int keep_last);
  TrainableModel(const TrainableModel&) = delete;
  TrainableModel& operator=(const TrainableModel&) = delete;

  policy::ModelImpl& model() { return *model_; }
  const policy::Model& handle() const { return model_; }
  AdamW& optimizer() { return optimizer_; }

  // Loads checkpoint folder `dir` (weights, optimizer state, torch's RNG; verified) and returns
  // its training state.
  absl::StatusOr<TrainingState> restore(const std::string& dir);
  // Writes checkpoint step-<state.step> and prunes old ones.
  absl::Status save(const TrainingState& state);

 private:
  policy::Model model_;
  AdamW optimizer_;
  Checkpointer checkpointer_;
};

}  // namespace forge::rl
