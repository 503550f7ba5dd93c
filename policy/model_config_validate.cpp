// ModelConfig::validate(): the checks a config must pass before a model is built from it, each
// error naming the config.json key.
#include "policy/model_config.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace forge::policy {
namespace {

absl::Status positive(const char* key, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("model config key '", key, "' must be > 0 (got ", value, ")"));
}

absl::Status bad_key(const char* key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("model config key '", key, "' ", why));
}

// Multi-head Latent Attention's dimensions.
absl::Status validate_mla(const ModelConfig& c) {
  for (auto [key, value] : {std::pair<const char*, double>{"kv_lora_rank", c.kv_lora_rank},
                            {"qk_nope_head_dim", c.qk_nope_head_dim},
                            {"qk_rope_head_dim", c.qk_rope_head_dim},
                            {"v_head_dim", c.v_head_dim}}) {
    if (auto st = positive(key, value); !st.ok()) return st;
  }
  if (c.qk_rope_head_dim % 2 != 0) {
    return bad_key("qk_rope_head_dim", "must be even (RoPE rotates pairs)");
  }
  if (c.q_lora_rank && *c.q_lora_rank <= 0) return bad_key("q_lora_rank", "must be > 0 or null");
  if (c.attention_bias) return bad_key("attention_bias", "must be false (MLA projections have no bias)");
  if (c.rope_scaling && c.rope_scaling->type != "yarn") {
    return bad_key("rope_scaling", "type must be \"yarn\" for MLA");
  }
  return absl::OkStatus();
}

// Grouped-query attention's dimensions.
absl::Status validate_gqa(const ModelConfig& c) {
  if (auto st = positive("num_key_value_heads", c.num_key_value_heads); !st.ok()) return st;
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return bad_key("num_key_value_heads", "must divide num_attention_heads");
  }
  if (c.head_dim < 0) return bad_key("head_dim", "must be > 0 (or absent)");
  if (c.head_dim == 0 && c.hidden_size % c.num_attention_heads != 0) {
    return bad_key("head_dim", "is absent and num_attention_heads does not divide hidden_size");
  }
  if (c.gqa_head_dim() % 2 != 0) return bad_key("head_dim", "must be even (RoPE rotates pairs)");
  if (c.attention_bias && !c.traits().attention_bias_key) {
    return bad_key("attention_bias", "is not a key of this family (Qwen2's q/k/v always have biases)");
  }
  if (c.use_sliding_window) {
    return bad_key("use_sliding_window", "must be false (sliding-window attention is not supported)");
  }
  if (c.rope_scaling && c.rope_scaling->type != "yarn" && c.rope_scaling->type != "llama3") {
    return bad_key("rope_scaling", "type must be \"llama3\" or \"yarn\"");
  }
  if (c.rope_scaling && c.rope_scaling->type == "llama3" &&
      c.rope_scaling->high_freq_factor <= c.rope_scaling->low_freq_factor) {
    return bad_key("rope_scaling", "high_freq_factor must exceed low_freq_factor");
  }
  return absl::OkStatus();
}

absl::Status validate_moe(const ModelConfig& c) {
  if (c.moe_intermediate_size <= 0) return bad_key("moe_intermediate_size", "must be > 0");
  if (c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.n_routed_experts) {
    return bad_key("num_experts_per_tok", "must be in [1, n_routed_experts]");
  }
  if (c.n_shared_experts < 0) return bad_key("n_shared_experts", "must be >= 0");
  if (c.n_group <= 0 || c.n_routed_experts % c.n_group != 0) {
    return bad_key("n_group", "must be > 0 and divide n_routed_experts");
  }
  if (c.topk_group <= 0 || c.topk_group > c.n_group) return bad_key("topk_group", "must be in [1, n_group]");
  if (c.topk_method != "greedy" &&
      c.num_experts_per_tok > c.topk_group * (c.n_routed_experts / c.n_group)) {
    return bad_key("num_experts_per_tok", "exceeds the experts in the topk_group kept groups");
  }
  if (c.scoring_func != "softmax" && c.scoring_func != "sigmoid") {
    return bad_key("scoring_func", "must be \"softmax\" or \"sigmoid\"");
  }
  if (c.topk_method != "greedy" && c.topk_method != "group_limited_greedy" &&
      c.topk_method != "noaux_tc") {
    return bad_key("topk_method", "must be \"greedy\", \"group_limited_greedy\" or \"noaux_tc\"");
  }
  if (c.routed_scaling_factor <= 0) return bad_key("routed_scaling_factor", "must be > 0");
  if (c.family == Family::kQwen3Moe) {
    if (c.decoder_sparse_step <= 0) return bad_key("decoder_sparse_step", "must be > 0");
    if (c.scoring_func != "softmax" || c.topk_method != "greedy" || c.n_shared_experts != 0) {
      return bad_key("scoring_func",
                     "qwen3_moe routes by softmax top-k (greedy) without shared experts");
    }
  }
  if (c.family == Family::kDeepseekV2 && c.topk_method == "noaux_tc") {
    return bad_key("topk_method", "noaux_tc is DeepSeek-V3's (model_type deepseek_v3)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ModelConfig::validate() const {
  for (auto [key, value] : {std::pair<const char*, double>{"vocab_size", vocab_size},
                            {"hidden_size", hidden_size},
                            {"num_hidden_layers", num_hidden_layers},
                            {"num_attention_heads", num_attention_heads},
                            {"rope_theta", rope_theta},
                            {"rms_norm_eps", rms_norm_eps},
                            {"max_position_embeddings", max_position_embeddings}}) {
    if (auto st = positive(key, value); !st.ok()) return st;
  }
  if (auto st = mla() ? validate_mla(*this) : validate_gqa(*this); !st.ok()) return st;
  if (first_k_dense_replace < 0 || first_k_dense_replace > num_hidden_layers) {
    return bad_key("first_k_dense_replace", "must be in [0, num_hidden_layers]");
  }
  if (moe_layer_freq <= 0) return bad_key("moe_layer_freq", "must be > 0");
  if (n_routed_experts < 0) return bad_key("n_routed_experts", "must be >= 0");
  bool any_dense = false;
  for (int layer = 0; layer < num_hidden_layers; ++layer) any_dense |= !is_moe_layer(layer);
  if (any_dense && intermediate_size <= 0) {
    return bad_key("intermediate_size", "must be > 0 for dense layers");
  }
  if (n_routed_experts > 0) {
    if (auto st = validate_moe(*this); !st.ok()) return st;
  }
  if (num_nextn_predict_layers < 0) return bad_key("num_nextn_predict_layers", "must be >= 0");
  if (hidden_act != "silu") return bad_key("hidden_act", "must be \"silu\" (SwiGLU)");
  if (mlp_bias && family != Family::kLlama) return bad_key("mlp_bias", "is Llama's key");
  if (bos_token_id < 0 || bos_token_id >= vocab_size) return bad_key("bos_token_id", "must be a token id");
  if (eos_token_id < 0 || eos_token_id >= vocab_size) return bad_key("eos_token_id", "must be a token id");
  if (rope_scaling) {
    if (rope_scaling->factor < 1.0) return bad_key("rope_scaling", "factor must be >= 1");
    if (rope_scaling->original_max_position_embeddings <= 0) {
      return bad_key("rope_scaling", "original_max_position_embeddings must be > 0");
    }
  }
  return absl::OkStatus();
}

}  // namespace forge::policy
