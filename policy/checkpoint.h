// Model checkpoints in Hugging Face layout: a folder with config.json (ModelConfig::to_json, the
// family's own keys) and either model.safetensors or shards model-0000i-of-0000n.safetensors listed
// by model.safetensors.index.json (checkpoint_files.h). Tensor names are Model::named_tensors()'s
// (the HF names), so released DeepSeek-V2/V3/R1, Moonlight, Qwen2.5/3, Qwen3-MoE and Llama 3
// folders load by name and ours load in transformers.
//
// Saving is atomic: everything is written (and fsynced) in DIR.tmp.<pid> and renamed to DIR; an
// existing DIR is replaced (moved aside, then removed), so readers never see a partial checkpoint.
// Tensors are written in the model's dtype, and config.json's torch_dtype says which.
//
// Loading (checkpoint_load.cpp) checks everything before copying anything: every tensor the config
// needs is present and nothing else is (one error lists all missing and all unexpected tensors),
// each has the config's shape (the error names the tensor and both shapes) and a floating dtype
// (F32, F16, BF16, or F8_E4M3 with its `weight_scale_inv`, dequantized by 128x128 blocks, fp8.h).
// Skipped by name: DeepSeek-V3's multi-token-prediction layers (model.layers.{i} for num_hidden_layers
// <= i < num_hidden_layers + num_nextn_predict_layers; counted once in the LoadReport), stale
// rotary_emb.inv_freq buffers, and lm_head.weight when the embeddings are tied. Tensors are copied
// straight from the memory-mapped files into the model's parameters (converted to its dtype) and
// their pages released as they go, so the peak resident memory stays near the model's own size;
// values must be finite.
// Thread-safety: functions; do not run them concurrently on the same model or folder.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "policy/checkpoint_files.h"
#include "policy/model.h"
#include "policy/model_config.h"

namespace forge::policy {

inline constexpr char kConfigFile[] = "config.json";

struct SaveOptions {
  int64_t max_shard_bytes = 0;  // 0: one model.safetensors; else shards of at most this many bytes
                                // (a single larger tensor gets a shard of its own)
};

absl::Status save_checkpoint(const ModelImpl& model, const std::string& dir,
                             const SaveOptions& options = {});

// Reads DIR/config.json (not validated).
absl::StatusOr<ModelConfig> read_checkpoint_config(const std::string& dir);

// What load_weights read, for one line of log.
struct LoadReport {
  int shards = 0;
  int tensors = 0;                     // model tensors filled
  int64_t bytes_read = 0;              // stored bytes of those tensors (and their fp8 scales)
  std::map<std::string, int> dtypes;   // stored dtype -> tensors ("BF16": 1021, "F8_E4M3": 870)
  int skipped_mtp_tensors = 0;         // DeepSeek-V3 multi-token-prediction tensors not loaded
  std::vector<int> skipped_mtp_layers;
  double seconds = 0;
  // "loaded 1234 tensors (15.1 GB: BF16 x 364, F8_E4M3 x 870) from 163 shards in 42.0 s; skipped
  // the multi-token-prediction layer 61 (1234 tensors)"
  std::string summary() const;
};

// Loads DIR's weights into `model`, with the checks above; fills `report` when given.
absl::Status load_weights(ModelImpl& model, const std::string& dir, LoadReport* report = nullptr);

// config.json (+ overrides, Hugging Face keys) -> validated config -> Model with `dtype`
// parameters -> load_weights.
absl::StatusOr<Model> load_checkpoint(const std::string& dir,
                                      const nlohmann::json& overrides = nlohmann::json::object(),
                                      at::ScalarType dtype = at::kFloat,
                                      LoadReport* report = nullptr);

// Copies named values into the model's tensors (weight sync). Each name must be one of
// named_tensors(); shapes must match (the error names the tensor); values are converted to the
// model's dtype and device. With require_all, every model tensor must be given.
absl::Status copy_named_tensors(ModelImpl& model,
                                const std::vector<std::pair<std::string, at::Tensor>>& values,
                                bool require_all);

}  // namespace forge::policy
