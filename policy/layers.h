// The small building blocks of the policy, each holding exactly the parameters Hugging Face's
// modules hold (so named_parameters() equals the checkpoint names):
//   Linear   — `weight` [out, in], and `bias` [out] when asked (Qwen2's q/k/v, Llama's
//              attention_bias / mlp_bias); every DeepSeek projection is bias-free
//   Embedding — `weight` [vocab, hidden]
//   RMSNorm  — `weight` [dim]; computes in fp32 and returns the input's dtype
//   Mlp      — SwiGLU: down_proj(silu(gate_proj(x)) * up_proj(x)); dense layers and every expert
// Parameters are allocated uninitialised; ModelImpl::init_weights fills them from a seed.
// Thread-safety: forward() is safe to call concurrently (no mutable state); training is not.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace forge::policy {

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool bias = false);
  at::Tensor forward(const at::Tensor& x);  // [..., in] -> [..., out]
  at::Tensor weight;                        // [out, in]
  at::Tensor bias;                          // [out], or undefined
};
TORCH_MODULE(Linear);

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t dim);
  at::Tensor forward(const at::Tensor& ids);  // [...] int64 -> [..., dim]
  at::Tensor weight;                          // [num_embeddings, dim]
};
TORCH_MODULE(Embedding);

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  // y = weight * (x / sqrt(mean(x^2) + eps)), the normalisation in fp32.
  at::Tensor forward(const at::Tensor& x);  // [..., dim] -> [..., dim]
  at::Tensor weight;                        // [dim], initialised to 1
 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t hidden_size, int64_t intermediate_size, bool bias = false);
  at::Tensor forward(const at::Tensor& x);  // [..., hidden] -> [..., hidden]
  Linear gate_proj{nullptr};                // [intermediate, hidden]
  Linear up_proj{nullptr};                  // [intermediate, hidden]
  Linear down_proj{nullptr};                // [hidden, intermediate]
};
TORCH_MODULE(Mlp);

}  // namespace forge::policy
