// GenerationBackend in this process: an Engine (continuous batching over the latent KV cache, the
// code the rollout workers run) with weights of its own. push_weights() copies the given tensors
// into the engine's spare weight set and publishes it (weight_store.h), as a worker does with an
// UpdateWeights stream, so a trainer that owns the policy it trains and the engine it samples from
// never shares a tensor between them. generate_all() submits every request before waiting, so
// they share decode steps (forge eval's greedy, low- and high-temperature requests).
// Thread-safety: as GenerationBackend; the engine is thread-safe.
#pragma once

#include <memory>

#include "policy/model.h"
#include "policy/tokenizer.h"
#include "rollout/engine.h"
#include "rollout/generation_backend.h"

namespace forge::rollout {

class LocalGeneration : public GenerationBackend {
 public:
  // The engine samples from `model` (owned from now on) as policy `version`.
  static absl::StatusOr<std::unique_ptr<LocalGeneration>> create(
      policy::Model model, std::shared_ptr<const policy::Tokenizer> tokenizer,
      const EngineOptions& options, int64_t version = 0);

  absl::StatusOr<std::vector<Completion>> generate(const GenerationRequest& request) override;
  absl::StatusOr<std::vector<std::vector<Completion>>> generate_all(
      std::vector<GenerationRequest> requests) override;
  // Unknown names, a missing tensor or a shape mismatch are INVALID_ARGUMENT naming the tensor;
  // the served weights stay as they were.
  absl::StatusOr<WeightPublishResult> push_weights(const NamedTensors& tensors,
                                                   int64_t version) override;

  Engine& engine() { return *engine_; }

 private:
  explicit LocalGeneration(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
  std::unique_ptr<Engine> engine_;
};

}  // namespace forge::rollout
