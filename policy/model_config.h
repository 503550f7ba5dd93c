// The policy's architecture, read from a Hugging Face `config.json` with each family's own key
// names (model_family.h), so one parser serves the tiny config and real DeepSeek-V2/V3, Qwen2/3,
// Qwen3-MoE and Llama checkpoints. The family is resolved once here, from `model_type`. No torch.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "policy/model_family.h"

namespace forge::policy {

// `rope_scaling`; absent (or type "default") = plain RoPE.
//   "yarn"   (DeepSeek-V2/V3, Qwen): factor, original_max_position_embeddings, beta_fast,
//            beta_slow, mscale, mscale_all_dim (rope.h);
//   "llama3" (Llama 3.1+): factor, low_freq_factor, high_freq_factor,
//            original_max_position_embeddings.
struct RopeScaling {
  std::string type = "yarn";
  double factor = 1.0;
  int original_max_position_embeddings = 4096;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
};

// `quantization_config` of DeepSeek-V3/R1's FP8 release: F8_E4M3 weights with one float32
// `weight_scale_inv` per block of weight_block_size ([rows, cols]) elements.
struct Fp8Quantization {
  int block_rows = 128;
  int block_cols = 128;
};

struct ModelConfig {
  Family family = Family::kDeepseekV3;  // "model_type"; absent = deepseek_v3 (Forge's own files)
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;         // dense MLP width (the first `first_k_dense_replace` layers)
  int moe_intermediate_size = 0;     // width of each routed/shared expert
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;       // GQA: K/V heads; informational for MLA (equals heads)
  int head_dim = 0;                  // GQA head width; 0 = hidden_size / num_attention_heads
  std::optional<int> q_lora_rank;    // nullopt: plain q_proj (DeepSeek-V2-Lite)
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  int first_k_dense_replace = 0;
  int moe_layer_freq = 1;
  int n_routed_experts = 0;          // 0: every layer dense ("num_experts" in qwen3_moe)
  int num_experts_per_tok = 0;
  int n_shared_experts = 0;
  int n_group = 1;
  int topk_group = 1;
  int decoder_sparse_step = 1;       // qwen3_moe: layer i is MoE when (i + 1) % step == 0 ...
  std::vector<int> mlp_only_layers;  // ... and i is not listed here
  std::string scoring_func = "softmax";  // "softmax" (V2) | "sigmoid" (V3)
  std::string topk_method = "greedy";    // "greedy" | "group_limited_greedy" | "noaux_tc"
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  double aux_loss_alpha = 0.0;           // sequence-wise auxiliary loss weight (0: off)
  bool seq_aux = true;
  int num_nextn_predict_layers = 0;      // deepseek_v3: MTP layers a checkpoint may carry (skipped)
  double rope_theta = 10000.0;
  std::optional<RopeScaling> rope_scaling;
  double rms_norm_eps = 1e-6;
  int max_position_embeddings = 2048;
  std::string hidden_act = "silu";
  double initializer_range = 0.02;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;                 // llama
  bool use_sliding_window = false;       // qwen2/qwen3: must stay false
  int bos_token_id = 0;
  int eos_token_id = 1;                  // a list in config.json: its first id
  std::string torch_dtype = "float32";   // the dtype the file declares (informational)
  std::optional<Fp8Quantization> quantization;  // "quantization_config" (FP8 checkpoints)

  // Starts from the family's defaults (its Hugging Face configuration class; Forge's own for
  // deepseek_v3, which the tiny configs rely on), then reads every key Forge uses; other keys are
  // accepted (recorded in `ignored_keys`).
  static absl::StatusOr<ModelConfig> from_json(const nlohmann::json& j);
  static absl::StatusOr<ModelConfig> from_file(const std::string& path);

  // Applies `overrides` (Hugging Face keys) on top of this config. Unlike a file, an override with a
  // key Forge does not know (or model_type) is an error naming the key.
  absl::Status apply_overrides(const nlohmann::json& overrides);

  // Ranges and divisibility; the message names the offending key.
  absl::Status validate() const;

  // The config.json to write beside a checkpoint, in the family's own layout and key names, so
  // Hugging Face transformers loads it (family_config.h).
  nlohmann::json to_json() const;

  const FamilyTraits& traits() const { return traits_of(family); }
  bool mla() const { return traits().attention == AttentionKind::kMla; }
  bool is_moe_layer(int layer) const;
  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int gqa_head_dim() const {
    return head_dim > 0 ? head_dim : hidden_size / std::max(num_attention_heads, 1);
  }
  // Dimensions RoPE rotates per head: qk_rope_head_dim (MLA) or the whole head (GQA).
  int rope_head_dim() const { return mla() ? qk_rope_head_dim : gqa_head_dim(); }
  // Values one token leaves in the KV cache per layer: its latent (MLA: kv_lora_rank +
  // qk_rope_head_dim) or its keys and values (GQA: 2 * num_key_value_heads * head_dim).
  int kv_cache_row_dim() const {
    return mla() ? kv_lora_rank + qk_rope_head_dim : 2 * num_key_value_heads * gqa_head_dim();
  }
  // Width of the query.key product that the softmax scale normalises.
  int attention_head_dim() const { return mla() ? qk_head_dim() : gqa_head_dim(); }

  // Keys from_json reads (all families); an override outside this list is rejected.
  static const std::vector<std::string>& known_keys();

  std::vector<std::string> ignored_keys;  // keys of the source file that Forge does not use
};

}  // namespace forge::policy
