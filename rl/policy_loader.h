// The policy a run config describes: resolves the `model` section (a Hugging Face config.json, an
// optional checkpoint folder, inline HF-key overrides) into a validated ModelConfig and a Model
// initialised from run.seed or loaded from the checkpoint. `forge model-info`, `forge generate`,
// rollout workers and the trainer all build their model here, so they agree on it.
// Thread-safety: functions; set_torch_threads changes process-wide state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "policy/model.h"
#include "policy/model_config.h"
#include "policy/tokenizer.h"
#include "rl/config/run_config.h"

namespace forge::rl {

struct LoadedPolicy {
  policy::ModelConfig config;
  policy::Model model{nullptr};
  std::string checkpoint;  // the folder the weights came from; "" = initialised from the seed
  std::string load_summary;  // policy::LoadReport::summary() of the checkpoint; "" without one
};

// The model config of `section`: DIR/config.json when section.checkpoint is set and has one (the
// checkpoint's architecture wins), else section.config; then section.overrides; then validate().
// Errors name the key (and the file).
absl::StatusOr<policy::ModelConfig> resolve_model_config(const ModelSection& section);

// resolve_model_config, build the Model with section.dtype parameters, then load
// section.checkpoint's weights (verified, converted on the way in) or initialise from `seed`;
// moves it to `device` ("cpu" | "cuda").
absl::StatusOr<LoadedPolicy> load_policy(const ModelSection& section, int64_t seed,
                                         const std::string& device = "cpu");

// The tokenizer of `section`, checked against the model: its ids must fit the model's vocabulary.
absl::StatusOr<std::unique_ptr<policy::Tokenizer>> load_tokenizer(
    const TokenizerSection& section, const policy::ModelConfig& config);

// Sets torch's intra-op threads: `threads`, or every core when 0 (torch itself may start at 1).
// Returns the number set.
int set_torch_threads(int threads);

}  // namespace forge::rl
