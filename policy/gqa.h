// Grouped-query attention (Ainslie et al. 2023) as the Llama, Qwen2, Qwen3 and Qwen3-MoE families
// run it, parameters named as in Hugging Face's LlamaAttention / Qwen2Attention / Qwen3Attention:
//   q_proj [H*hd, D], k_proj [KV*hd, D], v_proj [KV*hd, D], o_proj [D, H*hd]
//   (+ q/k/v `bias` in Qwen2; + q/k/v/o `bias` with `attention_bias` in Llama and Qwen3)
//   q_norm [hd], k_norm [hd]: Qwen3's RMSNorm of each head's q and k, before RoPE
// with D = hidden_size, H = heads, KV = key/value heads (H % KV == 0), hd = head_dim. Query head h
// reads key/value head h / (H / KV). RoPE rotates the whole head in the halves layout (rope.h).
// The cache row of a token is its roped keys and its values: [k (KV*hd) ; v (KV*hd)].
// Scores are scaled by attention_softmax_scale() (hd^-0.5); softmax is fp32.
// Thread-safety: forward/decode have no mutable state.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "policy/attention.h"
#include "policy/layers.h"
#include "policy/model_config.h"

namespace forge::policy {

class GqaAttentionImpl : public AttentionImpl {
 public:
  explicit GqaAttentionImpl(const ModelConfig& config);

  // AttentionImpl::forward; cache = [k ; v] rows [B, T, 2*KV*hd].
  AttentionOutput forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                          const at::Tensor& segments) override;
  // x [N, D] -> [N, 2*KV*hd]
  at::Tensor cache_rows(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) override;
  // x [N, D]; kv [N, L, 2*KV*hd]; valid [N, L] -> [N, D]
  at::Tensor decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                    const at::Tensor& kv, const at::Tensor& valid) override;

  Linear q_proj{nullptr};
  Linear k_proj{nullptr};
  Linear v_proj{nullptr};
  Linear o_proj{nullptr};
  RMSNorm q_norm{nullptr};  // Qwen3 families only
  RMSNorm k_norm{nullptr};

 private:
  // x [..., D] -> roped per-head queries [..., H, hd] / keys [..., KV, hd].
  at::Tensor queries(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
  at::Tensor keys(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

  int64_t heads_, kv_heads_, head_dim_;
  double softmax_scale_;
};
TORCH_MODULE(GqaAttention);

}  // namespace forge::policy
