// The collectives data-parallel training needs, over every rank of the job (c10d underneath:
// process_group.h). Every rank must make the same calls in the same order; a call fails (and the
// job should stop) when a rank is gone or the group's timeout passes.
// SingleProcess is the world of one: every collective is the identity, so code written against
// Collective runs unchanged without a launcher.
// Thread-safety: one thread (the training loop) makes the calls.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace forge::rl {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // In place: each tensor becomes the elementwise sum (or max) over the ranks. Tensors live on the
  // group's device (the CPU for Gloo); same shapes and dtypes on every rank.
  virtual absl::Status all_reduce_sum(std::vector<at::Tensor>& tensors) = 0;
  virtual absl::Status all_reduce_max(std::vector<at::Tensor>& tensors) = 0;
  // In place: `tensor` becomes rank `root`'s.
  virtual absl::Status broadcast(at::Tensor& tensor, int root) = 0;
  // Every rank's `bytes`, by rank.
  virtual absl::StatusOr<std::vector<std::string>> all_gather(const std::string& bytes) = 0;

  bool is_root() const { return rank() == 0; }
};

class SingleProcess final : public Collective {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  absl::Status all_reduce_sum(std::vector<at::Tensor>&) override { return absl::OkStatus(); }
  absl::Status all_reduce_max(std::vector<at::Tensor>&) override { return absl::OkStatus(); }
  absl::Status broadcast(at::Tensor&, int) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<std::string>> all_gather(const std::string& bytes) override {
    return std::vector<std::string>{bytes};
  }
};

// Sums of plain numbers over the ranks (a metric's partial sums): one all_reduce_sum of a float64
// tensor.
absl::StatusOr<std::vector<double>> sum_over_ranks(Collective& collective,
                                                   const std::vector<double>& values);

}  // namespace forge::rl
