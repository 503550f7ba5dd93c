// The model a training stage updates, with its AdamW and its checkpoints: the setup the GRPO and
// SFT trainers share, on one rank or many. Checkpoints go to <run_dir>/checkpoints (the newest
// `keep_last` kept, checkpointer.h) and do not depend on the number of ranks: saved by 2 ranks,
// resumed by 1 or 4.
//
// Data parallelism (rl/dist/): step() first sums the gradients over the ranks, so every rank
// applies the same update. With `zero` (ZeRO-1) each rank keeps the optimizer state of its shard
// of the parameters only, updates that shard, and then every parameter is broadcast from the rank
// that owns it; a checkpoint gathers the shards.
// Not thread-safe: one training loop owns it; every rank calls step(), save() and restore().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/model.h"
#include "rl/checkpoint/checkpointer.h"
#include "rl/dist/collective.h"
#include "rl/optim/adamw.h"

namespace forge::rl {

struct DataParallelOptions {
  bool zero = false;                        // ZeRO-1: the optimizer state sharded over the ranks
  int64_t bucket_bytes = int64_t{25} << 20; // gradient all-reduce buckets
};

class TrainableModel {
 public:
  // AdamW over every named parameter of `model`. `collective` (the job's ranks) must outlive it.
  TrainableModel(policy::Model model, const AdamW::Options& options, const std::string& run_dir,
                 int keep_last, Collective& collective, const DataParallelOptions& parallel = {});
  TrainableModel(const TrainableModel&) = delete;
  TrainableModel& operator=(const TrainableModel&) = delete;

  policy::ModelImpl& model() { return *model_; }
  const policy::Model& handle() const { return model_; }
  Collective& collective() { return collective_; }

  void zero_grad() { optimizer_.zero_grad(); }
  // Sums the gradients over the ranks, clips their global norm to `max_norm` (0: no clipping) and
  // takes one AdamW step at `lr`. Returns the norm before clipping.
  absl::StatusOr<double> step(double max_norm, double lr);

  // Loads checkpoint folder `dir` (weights, optimizer state, torch's RNG; verified) and returns
  // its training state.
  absl::StatusOr<TrainingState> restore(const std::string& dir);
  // Writes checkpoint step-<state.step> and prunes old ones (rank 0 writes; with ZeRO-1 every rank
  // takes part in gathering the optimizer state first).
  absl::Status save(const TrainingState& state);

 private:
  // The whole optimizer state, gathered from the shards' owners (every rank calls it).
  absl::StatusOr<std::vector<std::pair<std::string, at::Tensor>>> gathered_state();

  policy::Model model_;
  AdamW optimizer_;
  Checkpointer checkpointer_;
  Collective& collective_;
  const DataParallelOptions parallel_;
  std::vector<int> owner_;  // ZeRO-1: the rank that owns each parameter
};

}  // namespace forge::rl
