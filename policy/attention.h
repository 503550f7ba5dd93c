// A decoder layer's attention: one interface with two forms, chosen by the family
// (ModelConfig::mla()): Multi-head Latent Attention (mla.h; DeepSeek-V2/V3) or grouped-query
// attention (gqa.h; Qwen2, Llama, Qwen3, Qwen3-MoE). Both are registered as `self_attn`, hold
// exactly their family's checkpoint tensors, and share what a KV cache needs: the `cache_row_dim`
// values each token leaves per layer (ModelConfig::kv_cache_row_dim()), written at prefill and
// read back by decode().
// Thread-safety: forward/cache_rows/decode have no mutable state.
#pragma once

#include <memory>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "policy/model_config.h"

namespace forge::policy {

struct AttentionOutput {
  at::Tensor out;    // [B, T, D]
  at::Tensor cache;  // [B, T, C]: what a KV cache stores for these tokens
};

class AttentionImpl : public torch::nn::Module {
 public:
  // Training / prefill. x [B, T, D]; cos/sin [T, d/2] or [B, T, d/2] at each token's position
  // (d = rope_head_dim); segments [B, T] (bool or integer; 0 = padding, equal nonzero values = one
  // document) or undefined for one document per row. Causal within a document: query t sees keys
  // s <= t with segments[s] == segments[t] != 0. A padding query gets a finite, meaningless output.
  virtual AttentionOutput forward(const at::Tensor& x, const at::Tensor& cos,
                                  const at::Tensor& sin, const at::Tensor& segments) = 0;

  // The cache rows of tokens x [N, D] at positions with cos/sin [N, d/2] -> [N, C].
  virtual at::Tensor cache_rows(const at::Tensor& x, const at::Tensor& cos,
                                const at::Tensor& sin) = 0;

  // One new query token per row. x [N, D] with cos/sin [N, d/2] at that token's position; kv
  // [N, L, C] the cached history (the new token's own row included); valid [N, L] bool marks its
  // real entries. -> [N, D].
  virtual at::Tensor decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                            const at::Tensor& kv, const at::Tensor& valid) = 0;
};

// MlaAttentionImpl or GqaAttentionImpl for `config`'s family.
std::shared_ptr<AttentionImpl> make_attention(const ModelConfig& config);

// Masked scores [..., L] -> fp32 softmax; masked entries get the lowest finite value, so a fully
// masked row is uniform instead of NaN.
at::Tensor masked_softmax(const at::Tensor& scores, const at::Tensor& allowed);

// Which keys each query may see: causal over T positions, within a document when `segments`
// [B, T] is given. -> [1, 1, T, T] or [B, 1, T, T] bool on `device`.
at::Tensor attention_allowed(int64_t t, const at::Tensor& segments, const at::Device& device);

}  // namespace forge::policy
