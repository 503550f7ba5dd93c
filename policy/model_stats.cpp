#include "policy/model_stats.h"

namespace forge::policy {

namespace {

// MLA: q_a_proj + q_a_layernorm + q_b_proj (or q_proj), kv_a_proj_with_mqa, kv_a_layernorm,
// kv_b_proj, o_proj.
int64_t mla_params(const ModelConfig& c) {
  const int64_t d = c.hidden_size, h = c.num_attention_heads, dq = c.qk_head_dim();
  const int64_t r = c.kv_lora_rank, dr = c.qk_rope_head_dim;
  int64_t attn = 0;
  if (c.q_lora_rank) {
    const int64_t q = *c.q_lora_rank;
    attn += d * q + q + q * h * dq;
  } else {
    attn += d * h * dq;
  }
  return attn + d * (r + dr) + r + r * h * (c.qk_nope_head_dim + c.v_head_dim) + h * c.v_head_dim * d;
}

// GQA: q/k/v/o projections, their biases, Qwen3's q_norm and k_norm.
int64_t gqa_params(const ModelConfig& c) {
  const int64_t d = c.hidden_size, h = c.num_attention_heads, kv = c.num_key_value_heads;
  const int64_t hd = c.gqa_head_dim();
  int64_t attn = d * h * hd + 2 * d * kv * hd + h * hd * d;
  if (c.traits().qkv_bias || c.attention_bias) attn += h * hd + 2 * kv * hd;
  if (c.attention_bias) attn += d;
  if (c.traits().qk_norm) attn += 2 * hd;
  return attn;
}

}  // namespace

ModelStats model_stats(const ModelConfig& c) {
  const int64_t d = c.hidden_size;
  const int64_t h = c.num_attention_heads;
  ModelStats s;

  // Attention plus the layer's two RMSNorms.
  const int64_t attn = (c.mla() ? mla_params(c) : gqa_params(c)) + 2 * d;
  s.attention_params_per_layer = attn;

  const int64_t expert = 3 * d * c.moe_intermediate_size;  // gate_proj, up_proj, down_proj
  s.dense_mlp_params = 3 * d * c.intermediate_size;
  if (c.mlp_bias) s.dense_mlp_params += 2 * static_cast<int64_t>(c.intermediate_size) + d;
  s.moe_params_per_layer = c.n_routed_experts * expert + c.n_shared_experts * expert +
                           static_cast<int64_t>(c.n_routed_experts) * d;
  const int64_t moe_active = static_cast<int64_t>(c.num_experts_per_tok) * expert +
                             c.n_shared_experts * expert +
                             static_cast<int64_t>(c.n_routed_experts) * d;

  s.embedding_params = static_cast<int64_t>(c.vocab_size) * d * (c.tie_word_embeddings ? 1 : 2);
  s.total_params = s.embedding_params + d;  // + model.norm
  s.active_params = s.total_params;
  for (int layer = 0; layer < c.num_hidden_layers; ++layer) {
    s.total_params += attn;
    s.active_params += attn;
    if (c.is_moe_layer(layer)) {
      ++s.num_moe_layers;
      s.total_params += s.moe_params_per_layer;
      s.active_params += moe_active;
    } else {
      s.total_params += s.dense_mlp_params;
      s.active_params += s.dense_mlp_params;
    }
  }
  s.kv_cache_values_per_token = static_cast<int64_t>(c.num_hidden_layers) * c.kv_cache_row_dim();
  const int64_t head_values = c.mla() ? c.qk_head_dim() + c.v_head_dim : 2 * c.gqa_head_dim();
  s.mha_cache_values_per_token = static_cast<int64_t>(c.num_hidden_layers) * h * head_values;
  return s;
}

}  // namespace forge::policy
