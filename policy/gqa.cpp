#include "policy/gqa.h"

#include "policy/rope.h"

namespace forge::policy {
namespace {

// [..., F] -> [..., F / d, d]
at::Tensor split_heads(const at::Tensor& x, int64_t d) {
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(x.size(-1) / d);
  shape.push_back(d);
  return x.view(shape);
}

}  // namespace

GqaAttentionImpl::GqaAttentionImpl(const ModelConfig& c)
    : heads_(c.num_attention_heads),
      kv_heads_(c.num_key_value_heads),
      head_dim_(c.gqa_head_dim()),
      softmax_scale_(attention_softmax_scale(c)) {
  const int64_t d = c.hidden_size;
  const bool qkv_bias = c.traits().qkv_bias || c.attention_bias;
  q_proj = register_module("q_proj", Linear(d, heads_ * head_dim_, qkv_bias));
  k_proj = register_module("k_proj", Linear(d, kv_heads_ * head_dim_, qkv_bias));
  v_proj = register_module("v_proj", Linear(d, kv_heads_ * head_dim_, qkv_bias));
  o_proj = register_module("o_proj", Linear(heads_ * head_dim_, d, c.attention_bias));
  if (c.traits().qk_norm) {
    q_norm = register_module("q_norm", RMSNorm(head_dim_, c.rms_norm_eps));
    k_norm = register_module("k_norm", RMSNorm(head_dim_, c.rms_norm_eps));
  }
}

at::Tensor GqaAttentionImpl::queries(const at::Tensor& x, const at::Tensor& cos,
                                     const at::Tensor& sin) {
  at::Tensor q = split_heads(q_proj(x), head_dim_);                     // [..., H, hd]
  if (q_norm) q = q_norm(q);
  return apply_rope_halves(q, cos.unsqueeze(-2), sin.unsqueeze(-2));     // [..., H, hd]
}

at::Tensor GqaAttentionImpl::keys(const at::Tensor& x, const at::Tensor& cos,
                                  const at::Tensor& sin) {
  at::Tensor k = split_heads(k_proj(x), head_dim_);                     // [..., KV, hd]
  if (k_norm) k = k_norm(k);
  return apply_rope_halves(k, cos.unsqueeze(-2), sin.unsqueeze(-2));     // [..., KV, hd]
}

at::Tensor GqaAttentionImpl::cache_rows(const at::Tensor& x, const at::Tensor& cos,
                                        const at::Tensor& sin) {
  at::Tensor k = keys(x, cos, sin).flatten(-2);                          // [..., KV*hd]
  return at::cat({k, v_proj(x)}, -1);                                    // [..., 2*KV*hd]
}

AttentionOutput GqaAttentionImpl::forward(const at::Tensor& x, const at::Tensor& cos,
                                          const at::Tensor& sin, const at::Tensor& segments) {
  const int64_t b = x.size(0), t = x.size(1), group = heads_ / kv_heads_;
  at::Tensor rows = cache_rows(x, cos, sin);                             // [B, T, 2*KV*hd]
  at::Tensor k = rows.narrow(-1, 0, kv_heads_ * head_dim_)               //
                     .view({b, t, kv_heads_, 1, head_dim_})              //
                     .expand({b, t, kv_heads_, group, head_dim_})        //
                     .reshape({b, t, heads_, head_dim_}).transpose(1, 2);  // [B, H, T, hd]
  at::Tensor v = rows.narrow(-1, kv_heads_ * head_dim_, kv_heads_ * head_dim_)  //
                     .view({b, t, kv_heads_, 1, head_dim_})              //
                     .expand({b, t, kv_heads_, group, head_dim_})        //
                     .reshape({b, t, heads_, head_dim_}).transpose(1, 2);  // [B, H, T, hd]
  at::Tensor q = queries(x, cos, sin).transpose(1, 2);                   // [B, H, T, hd]
  at::Tensor scores = at::matmul(q, k.transpose(2, 3)) * softmax_scale_;  // [B, H, T, T]
  at::Tensor allowed = attention_allowed(t, segments, x.device());       // [(B|1), 1, T, T]
  at::Tensor probs = masked_softmax(scores, allowed).to(v.scalar_type());  // [B, H, T, T]
  at::Tensor out = at::matmul(probs, v)                                  // [B, H, T, hd]
                       .transpose(1, 2).reshape({b, t, heads_ * head_dim_});  // [B, T, H*hd]
  return {o_proj(out), rows};
}

at::Tensor GqaAttentionImpl::decode(const at::Tensor& x, const at::Tensor& cos,
                                    const at::Tensor& sin, const at::Tensor& kv,
                                    const at::Tensor& valid) {
  const int64_t n = x.size(0), l = kv.size(1), group = heads_ / kv_heads_;
  const int64_t width = kv_heads_ * head_dim_;
  TORCH_CHECK(kv.dim() == 3 && kv.size(0) == n && kv.size(2) == 2 * width,
              "GQA decode: kv must be [N, L, 2 * num_key_value_heads * head_dim]");
  at::Tensor q = queries(x, cos, sin).view({n, kv_heads_, group, head_dim_});  // [N, KV, G, hd]
  at::Tensor k = kv.narrow(2, 0, width).view({n, l, kv_heads_, head_dim_})     //
                     .permute({0, 2, 3, 1});                                   // [N, KV, hd, L]
  at::Tensor v = kv.narrow(2, width, width).view({n, l, kv_heads_, head_dim_})  //
                     .transpose(1, 2);                                         // [N, KV, L, hd]
  at::Tensor scores = at::matmul(q, k) * softmax_scale_;                       // [N, KV, G, L]
  at::Tensor probs = masked_softmax(scores, valid.view({n, 1, 1, l})).to(v.scalar_type());
  at::Tensor out = at::matmul(probs, v);                                       // [N, KV, G, hd]
  return o_proj(out.reshape({n, heads_ * head_dim_}));                         // [N, D]
}

}  // namespace forge::policy
