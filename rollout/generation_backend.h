// One interface for sampling from the policy, with two homes: LocalGeneration (an Engine in this
// process, local_generation.h) and Pool (rollout workers over gRPC, pool.h). The trainer, the
// evaluator and the distiller take a GenerationBackend and do not know which one they drive, so a
// test can run the whole loop in one process and a user can move generation to other machines
// without a code change.
//
// Completions may come back in any order: each names its (prompt_index, sample_index), and callers
// join them to their prompts by those numbers, never by position.
// Thread-safety: generate() and generate_all() calls may overlap each other; push_weights() must
// not overlap them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "rollout/request.h"

namespace forge::rollout {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct WeightPublishResult {
  int64_t version = 0;
  int64_t bytes = 0;                 // payload size (sent to each worker)
  double seconds = 0;                // the whole publication, wall clock
  std::vector<std::string> updated;  // the places that took the update (worker addresses)
  std::vector<std::string> failed;   // "WHERE: message" for each one that did not
};

class GenerationBackend {
 public:
  virtual ~GenerationBackend() = default;

  // Every prompt x sampling.n completions of `request`, in any order.
  virtual absl::StatusOr<std::vector<Completion>> generate(const GenerationRequest& request) = 0;

  // Several requests at once (they may share decode steps); result r holds requests[r]'s
  // completions. This default runs them one after another.
  virtual absl::StatusOr<std::vector<std::vector<Completion>>> generate_all(
      std::vector<GenerationRequest> requests);

  // Makes `tensors` (the policy's named tensors) the weights of every later request, as policy
  // `version`. Fails only when no place took them (`failed` names those that missed it).
  virtual absl::StatusOr<WeightPublishResult> push_weights(const NamedTensors& tensors,
                                                           int64_t version) = 0;
};

}  // namespace forge::rollout
