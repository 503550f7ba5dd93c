#include "policy/layers.h"

namespace forge::policy {

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, bool bias) {
  weight = register_parameter("weight", at::empty({out_features, in_features}));
  if (bias) this->bias = register_parameter("bias", at::empty({out_features}));
}

at::Tensor LinearImpl::forward(const at::Tensor& x) {
  return bias.defined() ? at::linear(x, weight, bias) : at::linear(x, weight);
}

EmbeddingImpl::EmbeddingImpl(int64_t num_embeddings, int64_t dim) {
  weight = register_parameter("weight", at::empty({num_embeddings, dim}));
}

at::Tensor EmbeddingImpl::forward(const at::Tensor& ids) { return at::embedding(weight, ids); }

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", at::ones({dim}));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x) {
  at::Tensor h = x.to(at::kFloat);                                   // [..., dim] fp32
  at::Tensor inv_rms = at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps_);  // [..., 1]
  return weight * (h * inv_rms).to(x.scalar_type());                 // [..., dim]
}

MlpImpl::MlpImpl(int64_t hidden_size, int64_t intermediate_size, bool bias) {
  gate_proj = register_module("gate_proj", Linear(hidden_size, intermediate_size, bias));
  up_proj = register_module("up_proj", Linear(hidden_size, intermediate_size, bias));
  down_proj = register_module("down_proj", Linear(intermediate_size, hidden_size, bias));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) {
  return down_proj(at::silu(gate_proj(x)) * up_proj(x));  // [..., hidden]
}

}  // namespace forge::policy
