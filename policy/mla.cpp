#include "policy/mla.h"

#include "policy/rope.h"

namespace forge::policy {

MlaAttentionImpl::MlaAttentionImpl(const ModelConfig& c)
    : heads_(c.num_attention_heads),
      nope_dim_(c.qk_nope_head_dim),
      rope_dim_(c.qk_rope_head_dim),
      v_dim_(c.v_head_dim),
      kv_rank_(c.kv_lora_rank),
      softmax_scale_(attention_softmax_scale(c)) {
  const int64_t d = c.hidden_size;
  const int64_t q_out = heads_ * c.qk_head_dim();
  if (c.q_lora_rank) {
    q_a_proj = register_module("q_a_proj", Linear(d, *c.q_lora_rank));
    q_a_layernorm = register_module("q_a_layernorm", RMSNorm(*c.q_lora_rank, c.rms_norm_eps));
    q_b_proj = register_module("q_b_proj", Linear(*c.q_lora_rank, q_out));
  } else {
    q_proj = register_module("q_proj", Linear(d, q_out));
  }
  kv_a_proj_with_mqa = register_module("kv_a_proj_with_mqa", Linear(d, kv_rank_ + rope_dim_));
  kv_a_layernorm = register_module("kv_a_layernorm", RMSNorm(kv_rank_, c.rms_norm_eps));
  kv_b_proj = register_module("kv_b_proj", Linear(kv_rank_, heads_ * (nope_dim_ + v_dim_)));
  o_proj = register_module("o_proj", Linear(heads_ * v_dim_, d));
}

at::Tensor MlaAttentionImpl::queries(const at::Tensor& x) {
  at::Tensor q = q_proj ? q_proj(x) : q_b_proj(q_a_layernorm(q_a_proj(x)));  // [..., H*dq]
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(heads_);
  shape.push_back(nope_dim_ + rope_dim_);
  return q.view(shape);  // [..., H, dq]
}

at::Tensor MlaAttentionImpl::cache_rows(const at::Tensor& x, const at::Tensor& cos,
                                        const at::Tensor& sin) {
  at::Tensor kv_a = kv_a_proj_with_mqa(x);                          // [..., r + dr]
  at::Tensor c_kv = kv_a_layernorm(kv_a.narrow(-1, 0, kv_rank_));  // [..., r]
  at::Tensor k_pe = apply_rope(kv_a.narrow(-1, kv_rank_, rope_dim_), cos, sin);  // [..., dr]
  return at::cat({c_kv, k_pe}, -1);                                 // [..., r + dr]
}

AttentionOutput MlaAttentionImpl::forward(const at::Tensor& x, const at::Tensor& cos,
                                          const at::Tensor& sin, const at::Tensor& segments) {
  const int64_t b = x.size(0), t = x.size(1);
  at::Tensor q = queries(x);                                                // [B, T, H, dq]
  at::Tensor q_nope = q.narrow(-1, 0, nope_dim_);                           // [B, T, H, dn]
  at::Tensor q_pe = apply_rope(q.narrow(-1, nope_dim_, rope_dim_),          //
                               cos.unsqueeze(-2), sin.unsqueeze(-2));       // [B, T, H, dr]
  at::Tensor lat = cache_rows(x, cos, sin);                                 // [B, T, r + dr]
  at::Tensor kv = kv_b_proj(lat.narrow(-1, 0, kv_rank_))                    //
                      .view({b, t, heads_, nope_dim_ + v_dim_});            // [B, T, H, dn + dv]
  at::Tensor k_nope = kv.narrow(-1, 0, nope_dim_);                          // [B, T, H, dn]
  at::Tensor v = kv.narrow(-1, nope_dim_, v_dim_).transpose(1, 2);          // [B, H, T, dv]
  at::Tensor k_pe = lat.narrow(-1, kv_rank_, rope_dim_)                     //
                        .unsqueeze(2).expand({b, t, heads_, rope_dim_});    // [B, T, H, dr]

  at::Tensor query = at::cat({q_nope, q_pe}, -1).transpose(1, 2);           // [B, H, T, dq]
  at::Tensor key = at::cat({k_nope, k_pe}, -1).transpose(1, 2);             // [B, H, T, dq]
  at::Tensor scores = at::matmul(query, key.transpose(2, 3)) * softmax_scale_;  // [B, H, T, T]

  at::Tensor allowed = attention_allowed(t, segments, x.device());          // [(B|1), 1, T, T]
  at::Tensor probs = masked_softmax(scores, allowed).to(v.scalar_type());   // [B, H, T, T]
  at::Tensor out = at::matmul(probs, v)                                     // [B, H, T, dv]
                       .transpose(1, 2).reshape({b, t, heads_ * v_dim_});   // [B, T, H*dv]
  return {o_proj(out), lat};
}

at::Tensor MlaAttentionImpl::decode(const at::Tensor& x, const at::Tensor& cos,
                                   const at::Tensor& sin, const at::Tensor& kv,
                                   const at::Tensor& valid) {
  const int64_t n = x.size(0);
  TORCH_CHECK(kv.dim() == 3 && kv.size(0) == n && kv.size(2) == kv_rank_ + rope_dim_,
              "MLA decode: kv must be [N, L, kv_lora_rank + qk_rope_head_dim]");
  at::Tensor q = queries(x);                                                // [N, H, dq]
  at::Tensor q_nope = q.narrow(-1, 0, nope_dim_);                           // [N, H, dn]
  at::Tensor q_pe = apply_rope(q.narrow(-1, nope_dim_, rope_dim_),          //
                               cos.unsqueeze(1), sin.unsqueeze(1));         // [N, H, dr]

  // kv_b_proj.weight rows are per head [dn (W_UK) ; dv (W_UV)] over the latent rank r.
  at::Tensor w = kv_b_proj->weight.view({heads_, nope_dim_ + v_dim_, kv_rank_});  // [H, dn+dv, r]
  at::Tensor w_uk = w.narrow(1, 0, nope_dim_);                              // [H, dn, r]
  at::Tensor w_uv = w.narrow(1, nope_dim_, v_dim_);                         // [H, dv, r]

  // q_nope . (W_UK c) == (W_UK^T q_nope) . c: absorb W_UK into the query.
  at::Tensor q_lat = at::bmm(q_nope.transpose(0, 1), w_uk).transpose(0, 1);  // [N, H, r]
  at::Tensor query = at::cat({q_lat, q_pe}, -1);                            // [N, H, r + dr]
  at::Tensor scores = at::bmm(query, kv.transpose(1, 2)) * softmax_scale_;  // [N, H, L]
  at::Tensor probs = masked_softmax(scores, valid.unsqueeze(1)).to(kv.scalar_type());  // [N, H, L]
  at::Tensor o_lat = at::bmm(probs, kv.narrow(2, 0, kv_rank_));             // [N, H, r]
  // W_UV applied after the weighted sum over positions.
  at::Tensor out = at::bmm(o_lat.transpose(0, 1), w_uv.transpose(1, 2));    // [H, N, dv]
  return o_proj(out.transpose(0, 1).reshape({n, heads_ * v_dim_}));        // [N, D]
}

}  // namespace forge::policy
