#include "rollout/weight_store.h"

#include <algorithm>
#include <atomic>

#include <ATen/core/grad_mode.h>

namespace forge::rollout {

WeightStore::WeightStore(policy::Model initial, int64_t version) {
  auto set = std::make_shared<WeightSet>();
  set->model = std::move(initial);
  set->model->eval();
  set->version = version;
  current_ = set;
  sets_.push_back(set);
}

std::shared_ptr<const WeightSet> WeightStore::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

int64_t WeightStore::current_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_->version;
}

int WeightStore::num_sets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(sets_.size());
}

void WeightStore::drop_unused_locked() {
  // Keep the current set and every pinned one; of the unpinned others keep one as the next spare.
  bool kept_spare = false;
  std::vector<std::shared_ptr<WeightSet>> kept;
  for (auto& set : sets_) {
    const bool unused = set != current_ && set != spare_out_ && set.use_count() == 1;
    if (unused && kept_spare) continue;
    if (unused) kept_spare = true;
    kept.push_back(set);
  }
  sets_ = std::move(kept);
}

absl::StatusOr<std::shared_ptr<WeightSet>> WeightStore::acquire_spare() {
  std::shared_ptr<const WeightSet> like;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_out_) return absl::AbortedError("another weight update is in progress");
    // use_count 1: only sets_ holds it, and nobody can get a new reference except through us.
    for (auto& set : sets_) {
      if (set != current_ && set.use_count() == 1) {
        // Pairs with the release of the last holder's reference: its reads of the weights happen
        // before our writes.
        std::atomic_thread_fence(std::memory_order_acquire);
        spare_out_ = set;
        return set;
      }
    }
    like = current_;
    spare_out_ = std::make_shared<WeightSet>();  // reserved while the model is built
  }
  // A new model (outside the lock: building one takes a while), matching the current one tensor by
  // tensor in device and dtype.
  std::shared_ptr<WeightSet> spare = spare_out_;
  try {
    policy::Model model(like->model->config(), /*seed=*/0, /*initialise=*/false);
    model->eval();
    at::NoGradGuard no_grad;
    const auto src = like->model->named_tensors();
    auto dst = model->named_tensors();
    for (size_t i = 0; i < dst.size(); ++i) {
      at::Tensor& t = dst[i].second;
      if (t.options().dtype() != src[i].second.options().dtype() ||
          t.device() != src[i].second.device()) {
        t.set_data(t.to(src[i].second.device(), src[i].second.scalar_type()));
      }
    }
    spare->model = model;
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    spare_out_.reset();
    return absl::ResourceExhaustedError(
        std::string("cannot allocate a second copy of the weights for the update: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  sets_.push_back(spare);
  return spare;
}

void WeightStore::release_spare(const std::shared_ptr<WeightSet>& spare) {
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_out_ == spare) spare_out_.reset();
  drop_unused_locked();
}

void WeightStore::publish(const std::shared_ptr<WeightSet>& spare, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  spare->version = version;
  current_ = spare;
  if (spare_out_ == spare) spare_out_.reset();
  drop_unused_locked();
}

}  // namespace forge::rollout
