// One transformer block, named as Hugging Face's decoder layers (DeepseekV3DecoderLayer,
// LlamaDecoderLayer, Qwen3MoeDecoderLayer, ...):
//   h = x + self_attn(input_layernorm(x));  out = h + mlp(post_attention_layernorm(h))
// where `self_attn` is MLA or GQA (attention.h, by family) and `mlp` a dense SwiGLU Mlp for every
// layer ModelConfig::is_moe_layer() rejects and a routed Moe otherwise.
// Thread-safety: not thread-safe (the MoE records expert load).
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "policy/attention.h"
#include "policy/layers.h"
#include "policy/model_config.h"
#include "policy/moe.h"

namespace forge::policy {

struct DecoderLayerOutput {
  at::Tensor hidden;    // [B, T, D]
  at::Tensor cache;     // [B, T, C]: this layer's cache rows for the tokens
  at::Tensor aux_loss;  // scalar or undefined (dense layer, or the aux loss is off)
};

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const ModelConfig& config, int layer_index);

  // Over a right-padded or packed batch (naive MLA). x [B, T, D]; cos/sin [T, d/2] or
  // [B, T, d/2]; segments [B, T] as in AttentionImpl::forward (undefined: all real, one document
  // per row).
  DecoderLayerOutput forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                             const at::Tensor& segments);

  // One decoding step (absorbed MLA, or GQA over cached K/V): writes the new tokens' cache rows to
  // `cache_layer` rows `write_rows` [N], then attends over rows `gather_rows` [N * L] (viewed
  // [N, L]) where `valid` [N, L]. x [N, D]; cos/sin [N, d/2] at each token's position. -> [N, D]
  at::Tensor decode(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                    at::Tensor& cache_layer, const at::Tensor& write_rows,
                    const at::Tensor& gather_rows, const at::Tensor& valid);

  bool is_moe() const { return !moe.is_empty(); }

  std::shared_ptr<AttentionImpl> self_attn;
  Mlp dense_mlp{nullptr};  // registered as "mlp" in dense layers
  Moe moe{nullptr};        // registered as "mlp" in MoE layers
  RMSNorm input_layernorm{nullptr};
  RMSNorm post_attention_layernorm{nullptr};

 private:
  MoeOutput mlp(const at::Tensor& x, const at::Tensor& segments);  // [B, T, D]
};
TORCH_MODULE(DecoderLayer);

}  // namespace forge::policy
