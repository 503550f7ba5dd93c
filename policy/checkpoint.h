// Model checkpoints in Hugging Face layout: a folder with config.json (ModelConfig::to_json) and
// either model.safetensors or shards model-0000i-of-0000n.safetensors listed by
// model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map": {name: file}}). Tensor
// names are Model::named_tensors()'s (the HF names), so real DeepSeek-V2-Lite / Moonlight folders
// load by name and ours load in transformers.
//
// Saving is atomic: everything is written (and fsynced) in DIR.tmp.<pid> and renamed to DIR; an
// existing DIR is replaced (moved aside, then removed), so readers never see a partial checkpoint.
// Loading verifies: every tensor the config needs is present, has the config's shape (the error names
// the tensor and both shapes), a floating dtype, and finite values; an unexpected tensor is an error,
// except multi-token-prediction layers (index >= num_hidden_layers) and rotary_emb.inv_freq, which
// are skipped. Values are converted to the model's dtype.
// Thread-safety: functions; do not run them concurrently on the same model or folder.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "policy/model.h"
#include "policy/model_config.h"

namespace forge::policy {

inline constexpr char kConfigFile[] = "config.json";
inline constexpr char kWeightsFile[] = "model.safetensors";
inline constexpr char kIndexFile[] = "model.safetensors.index.json";

struct SaveOptions {
  int64_t max_shard_bytes = 0;  // 0: one model.safetensors; else shards of at most this many bytes
                                // (a single larger tensor gets a shard of its own)
};

absl::Status save_checkpoint(const ModelImpl& model, const std::string& dir,
                             const SaveOptions& options = {});

// Reads DIR/config.json (not validated).
absl::StatusOr<ModelConfig> read_checkpoint_config(const std::string& dir);

// Loads DIR's weights into `model`, with the checks above.
absl::Status load_weights(ModelImpl& model, const std::string& dir);

// config.json (+ overrides, Hugging Face keys) -> validated config -> Model -> load_weights.
absl::StatusOr<Model> load_checkpoint(const std::string& dir,
                                      const nlohmann::json& overrides = nlohmann::json::object());

// Copies named values into the model's tensors (weight sync). Each name must be one of
// named_tensors(); shapes must match (the error names the tensor); values are converted to the
// model's dtype and device. With require_all, every model tensor must be given.
absl::Status copy_named_tensors(ModelImpl& model,
                                const std::vector<std::pair<std::string, at::Tensor>>& values,
                                bool require_all);

}  // namespace forge::policy
