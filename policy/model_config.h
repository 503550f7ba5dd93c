// The policy's architecture, read from a Hugging Face `config.json` (DeepSeek-V2/V3 key names), so one
// parser serves the tiny config and real DeepSeek-V2-Lite / Moonlight checkpoints. No torch here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge::policy {

// YaRN context extension (`rope_scaling` with type "yarn"); absent = plain RoPE.
struct RopeScaling {
  std::string type = "yarn";
  double factor = 1.0;
  int original_max_position_embeddings = 4096;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
};

struct ModelConfig {
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;         // dense MLP width (the first `first_k_dense_replace` layers)
  int moe_intermediate_size = 0;     // width of each routed/shared expert
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;       // informational for MLA (equals num_attention_heads)
  std::optional<int> q_lora_rank;    // nullopt: plain q_proj (DeepSeek-V2-Lite)
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  int first_k_dense_replace = 0;
  int moe_layer_freq = 1;
  int n_routed_experts = 0;          // 0: every layer dense
  int num_experts_per_tok = 0;
  int n_shared_experts = 0;
  int n_group = 1;
  int topk_group = 1;
  std::string scoring_func = "softmax";  // "softmax" (V2) | "sigmoid" (V3)
  std::string topk_method = "greedy";    // "greedy" | "group_limited_greedy" | "noaux_tc"
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  double aux_loss_alpha = 0.0;           // sequence-wise auxiliary loss weight (0: off)
  bool seq_aux = true;
  double rope_theta = 10000.0;
  std::optional<RopeScaling> rope_scaling;
  double rms_norm_eps = 1e-6;
  int max_position_embeddings = 2048;
  std::string hidden_act = "silu";
  double initializer_range = 0.02;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  int bos_token_id = 0;
  int eos_token_id = 1;

  // Reads every key Forge uses; other Hugging Face keys are accepted (recorded in `ignored_keys`).
  static absl::StatusOr<ModelConfig> from_json(const nlohmann::json& j);
  static absl::StatusOr<ModelConfig> from_file(const std::string& path);

  // Applies `overrides` (Hugging Face keys) on top of this config. Unlike a file, an override with a
  // key Forge does not know is an error naming the key.
  absl::Status apply_overrides(const nlohmann::json& overrides);

  // Ranges and divisibility; the message names the offending key.
  absl::Status validate() const;

  // The config.json to write beside a checkpoint (HF-compatible: DeepseekV3ForCausalLM).
  nlohmann::json to_json() const;

  bool is_moe_layer(int layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }

  // Keys from_json reads; an override outside this list is rejected.
  static const std::vector<std::string>& known_keys();

  std::vector<std::string> ignored_keys;  // keys of the source file that Forge does not use
};

}  // namespace forge::policy
