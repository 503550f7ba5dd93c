#include "rl/checkpoint/trainable_model.h"

#include <ATen/ATen.h>

#include "base/status_macros.h"
#include "rl/dist/data_parallel.h"

namespace forge::rl {
namespace {

std::vector<std::pair<std::string, at::Tensor>> parameters_of(const policy::Model& model) {
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (const auto& p : model->named_parameters()) params.emplace_back(p.key(), p.value());
  return params;
}

// Each parameter to the rank with the fewest elements so far, in order: the same on every rank.
std::vector<int> balanced_owners(const AdamW& optimizer, int ranks) {
  std::vector<int64_t> load(static_cast<size_t>(ranks), 0);
  std::vector<int> owner;
  for (size_t i = 0; i < optimizer.size(); ++i) {
    const int r = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owner.push_back(r);
    load[static_cast<size_t>(r)] += optimizer.param(i).numel();
  }
  return owner;
}

}  // namespace

TrainableModel::TrainableModel(policy::Model model, const AdamW::Options& options,
                               const std::string& run_dir, int keep_last, Collective& collective,
                               const DataParallelOptions& parallel)
    : model_(std::move(model)),
      optimizer_(parameters_of(model_), options),
      checkpointer_(run_dir + "/checkpoints", keep_last),
      collective_(collective),
      parallel_(parallel) {
  if (parallel_.zero && collective_.world_size() > 1) {
    owner_ = balanced_owners(optimizer_, collective_.world_size());
    std::vector<bool> owned;
    for (int r : owner_) owned.push_back(r == collective_.rank());
    optimizer_.set_owned(std::move(owned));
  }
}

absl::StatusOr<double> TrainableModel::step(double max_norm, double lr) {
  std::vector<at::Tensor> params;
  for (size_t i = 0; i < optimizer_.size(); ++i) params.push_back(optimizer_.param(i));
  RETURN_IF_ERROR(all_reduce_gradients(collective_, params, parallel_.bucket_bytes));
  const double norm = optimizer_.clip_grad_norm(max_norm);
  optimizer_.step(lr);
  if (!owner_.empty()) {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      RETURN_IF_ERROR(collective_.broadcast(params[i], owner_[i]));
    }
  }
  return norm;
}

absl::StatusOr<TrainingState> TrainableModel::restore(const std::string& dir) {
  return Checkpointer::load(dir, *model_, &optimizer_);
}

absl::StatusOr<std::vector<std::pair<std::string, at::Tensor>>> TrainableModel::gathered_state() {
  std::vector<std::pair<std::string, at::Tensor>> mine = optimizer_.state_tensors();
  if (owner_.empty()) return mine;
  std::map<std::string, at::Tensor> by_name(mine.begin(), mine.end());
  // Which parameters have state (their owner knows), then each one's moments from its owner.
  at::Tensor has_state = at::zeros({static_cast<int64_t>(optimizer_.size())}, at::kFloat);  // [P]
  for (size_t i = 0; i < optimizer_.size(); ++i) {
    if (by_name.count(optimizer_.name(i) + ".exp_avg") > 0) has_state[i] = 1.0f;
  }
  std::vector<at::Tensor> flags = {has_state};
  RETURN_IF_ERROR(collective_.all_reduce_sum(flags));
  std::vector<std::pair<std::string, at::Tensor>> all = {{"__step__", by_name.at("__step__")}};
  for (size_t i = 0; i < optimizer_.size(); ++i) {
    if (has_state[static_cast<int64_t>(i)].item<float>() == 0.0f) continue;
    for (const char* suffix : {".exp_avg", ".exp_avg_sq"}) {
      const std::string key = optimizer_.name(i) + suffix;
      at::Tensor t = owner_[i] == collective_.rank() ? by_name.at(key).clone()
                                                     : at::zeros_like(optimizer_.param(i));
      RETURN_IF_ERROR(collective_.broadcast(t, owner_[i]));
      all.emplace_back(key, t);
    }
  }
  return all;
}

absl::Status TrainableModel::save(const TrainingState& state) {
  ASSIGN_OR_RETURN(auto optimizer_state, gathered_state());
  if (!collective_.is_root()) return absl::OkStatus();
  return checkpointer_.save(*model_, optimizer_state, state);
}

}  // namespace forge::rl
