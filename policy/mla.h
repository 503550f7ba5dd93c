// Multi-head Latent Attention (DeepSeek-V2 §2.1, DeepSeek-V3 §2.1.1), parameters named as in
// Hugging Face's DeepseekV3Attention:
//   q_a_proj [q_lora_rank, D], q_a_layernorm [q_lora_rank], q_b_proj [H*dq, q_lora_rank]
//     (or q_proj [H*dq, D] when q_lora_rank is null, as in DeepSeek-V2-Lite)
//   kv_a_proj_with_mqa [r + dr, D], kv_a_layernorm [r], kv_b_proj [H*(dn + dv), r], o_proj [D, H*dv]
// with D = hidden_size, H = heads, r = kv_lora_rank, dn = qk_nope_head_dim, dr = qk_rope_head_dim,
// dq = dn + dr, dv = v_head_dim.
//
// Two forms that compute the same attention:
//  * naive (training, prefill): up-project the latent to per-head keys/values (eqs. 9-11) and run
//    causal attention over a right-padded or packed batch;
//  * absorbed (decoding): fold W_UK into the query and W_UV into the output, so each query attends
//    directly over the cached latent [c_kv, k_pe] — `r + dr` values per token per layer.
// The latent of a token is kv_a_layernorm(c_kv) ++ rope(k_pe): exactly what the cache holds.
// Attention logits are scaled by attention_softmax_scale() (YaRN's mscale^2 included); softmax is fp32.
// Thread-safety: forward/decode have no mutable state.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "policy/attention.h"
#include "policy/layers.h"
#include "policy/model_config.h"

namespace forge::policy {

class MlaAttentionImpl : public AttentionImpl {
 public:
  explicit MlaAttentionImpl(const ModelConfig& config);

  // Naive MLA (AttentionImpl::forward); cache = the latents [B, T, r + dr].
  AttentionOutput forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                          const at::Tensor& segments) override;

  // Latent of tokens x [N, D] at positions with cos/sin [N, dr/2] -> [N, r + dr].
  at::Tensor cache_rows(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) override;

  // Absorbed MLA for one new query token per row. x [N, D] with cos/sin [N, dr/2] at that token's
  // position; kv [N, L, r + dr] the latent history (the new token's own latent included); valid
  // [N, L] bool marks the history's real entries. -> [N, D].
  at::Tensor decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                    const at::Tensor& kv, const at::Tensor& valid) override;

  Linear q_a_proj{nullptr};
  RMSNorm q_a_layernorm{nullptr};
  Linear q_b_proj{nullptr};
  Linear q_proj{nullptr};  // only when q_lora_rank is null
  Linear kv_a_proj_with_mqa{nullptr};
  RMSNorm kv_a_layernorm{nullptr};
  Linear kv_b_proj{nullptr};
  Linear o_proj{nullptr};

 private:
  at::Tensor queries(const at::Tensor& x);  // [..., D] -> [..., H, dq]

  int64_t heads_, nope_dim_, rope_dim_, v_dim_, kv_rank_;
  double softmax_scale_;
};
TORCH_MODULE(MlaAttention);

}  // namespace forge::policy
