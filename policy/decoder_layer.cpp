#include "policy/decoder_layer.h"

namespace forge::policy {

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c, int layer_index) {
  self_attn = register_module("self_attn", make_attention(c));
  if (c.is_moe_layer(layer_index)) {
    moe = register_module("mlp", Moe(c));
  } else {
    dense_mlp = register_module("mlp", Mlp(c.hidden_size, c.intermediate_size, c.mlp_bias));
  }
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

MoeOutput DecoderLayerImpl::mlp(const at::Tensor& x, const at::Tensor& segments) {
  if (moe) return moe(x, segments);
  return {dense_mlp(x), at::Tensor()};
}

DecoderLayerOutput DecoderLayerImpl::forward(const at::Tensor& x, const at::Tensor& cos,
                                             const at::Tensor& sin, const at::Tensor& segments) {
  AttentionOutput attn = self_attn->forward(input_layernorm(x), cos, sin, segments);
  at::Tensor h = x + attn.out;                                       // [B, T, D]
  MoeOutput ffn = mlp(post_attention_layernorm(h), segments);
  return {h + ffn.out, attn.cache, ffn.aux_loss};
}

at::Tensor DecoderLayerImpl::decode(const at::Tensor& x, const at::Tensor& cos,
                                    const at::Tensor& sin, at::Tensor& cache_layer,
                                    const at::Tensor& write_rows, const at::Tensor& gather_rows,
                                    const at::Tensor& valid) {
  const int64_t n = x.size(0), l = valid.size(1);
  at::Tensor a = input_layernorm(x);                                  // [N, D]
  at::Tensor row = self_attn->cache_rows(a, cos, sin);                // [N, C]
  cache_layer.index_copy_(0, write_rows, row.to(cache_layer.scalar_type()));
  at::Tensor kv = cache_layer.index_select(0, gather_rows)            //
                      .view({n, l, cache_layer.size(1)}).to(a.scalar_type());  // [N, L, C]
  at::Tensor h = x + self_attn->decode(a, cos, sin, kv, valid);       // [N, D]
  MoeOutput ffn = mlp(post_attention_layernorm(h).unsqueeze(1), at::Tensor());  // [N, 1, D]
  return h + ffn.out.squeeze(1);                                      // [N, D]
}

}  // namespace forge::policy
