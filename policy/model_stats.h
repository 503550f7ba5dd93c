// Closed-form sizes of a model described by a ModelConfig: parameter counts and KV-cache bytes. No
// torch here, so `forge model-info` and the rollout engine's cache sizing need not build a model.
// A test checks total_params() against the parameters a built Model actually has.
#pragma once

#include <cstdint>

#include "policy/model_config.h"

namespace forge::policy {

struct ModelStats {
  int64_t total_params = 0;   // every trained parameter (the routing-bias buffers are not counted)
  int64_t active_params = 0;  // parameters one token passes through (top-k routed experts only)
  int64_t embedding_params = 0;            // embed_tokens + lm_head (lm_head counted once if tied)
  int64_t attention_params_per_layer = 0;  // MLA or GQA projections and the layer's norms
  int64_t dense_mlp_params = 0;            // one dense SwiGLU layer
  int64_t moe_params_per_layer = 0;        // routed + shared experts + gate of one MoE layer
  int64_t num_moe_layers = 0;
  // The cache's values per token, all layers: MLA latents (kv_lora_rank + qk_rope_head_dim per
  // layer) or GQA keys and values (2 * num_key_value_heads * head_dim per layer).
  int64_t kv_cache_values_per_token = 0;
  // What plain multi-head attention with the same heads would cache: full K and V per head.
  int64_t mha_cache_values_per_token = 0;
};

// Requires a config that passed validate().
ModelStats model_stats(const ModelConfig& config);

}  // namespace forge::policy
