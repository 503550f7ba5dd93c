#include "policy/model_stats.h"

namespace forge::policy {

ModelStats model_stats(const ModelConfig& c) {
  const int64_t d = c.hidden_size;
  const int64_t h = c.num_attention_heads;
  const int64_t dq = c.qk_head_dim();
  const int64_t r = c.kv_lora_rank;
  const int64_t dr = c.qk_rope_head_dim;
  ModelStats s;

  // MLA: q_a_proj + q_a_layernorm + q_b_proj (or q_proj), kv_a_proj_with_mqa, kv_a_layernorm,
  // kv_b_proj, o_proj; plus the layer's two RMSNorms.
  int64_t attn = 0;
  if (c.q_lora_rank) {
    const int64_t q = *c.q_lora_rank;
    attn += d * q + q + q * h * dq;
  } else {
    attn += d * h * dq;
  }
  attn += d * (r + dr) + r + r * h * (c.qk_nope_head_dim + c.v_head_dim) + h * c.v_head_dim * d;
  attn += 2 * d;
  s.attention_params_per_layer = attn;

  const int64_t expert = 3 * d * c.moe_intermediate_size;  // gate_proj, up_proj, down_proj
  s.dense_mlp_params = 3 * d * c.intermediate_size;
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
  s.kv_cache_values_per_token = static_cast<int64_t>(c.num_hidden_layers) * (r + dr);
  s.mha_cache_values_per_token =
      static_cast<int64_t>(c.num_hidden_layers) * h * (dq + c.v_head_dim);
  return s;
}

}  // namespace forge::policy
