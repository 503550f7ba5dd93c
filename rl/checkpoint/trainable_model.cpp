#include "rl/checkpoint/trainable_model.h"

namespace forge::rl {
namespace {

std::vector<std::pair<std::string, at::Tensor>> parameters_of(const policy::Model& model) {
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (const auto& p : model->named_parameters()) params.emplace_back(p.key(), p.value());
  return params;
}

}  // namespace

TrainableModel::TrainableModel(policy::Model model, const AdamW::Options& options,
                               const std::string& run_dir, int keep_last)
    : model_(std::move(model)),
      optimizer_(parameters_of(model_), options),
      checkpointer_(run_dir + "/checkpoints", keep_last) {}

absl::StatusOr<TrainingState> TrainableModel::restore(const std::string& dir) {
  return Checkpointer::load(dir, *model_, &optimizer_);
}

absl::Status TrainableModel::save(const TrainingState& state) {
  return checkpointer_.save(*model_, optimizer_, state);
}

}  // namespace forge::rl
