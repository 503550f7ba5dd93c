// The one definition of a token's log-probability, shared by the sampler (rollout) and the trainer,
// so both compute bit-identical numbers from identical logits:
//   token_log_probs(logits, tokens)[...] = log softmax(logits[..., :])[tokens[...]]  in fp32
// over the full vocabulary. Sampled with temperature T, a token's logprob is
// token_log_probs(temperature_scaled(logits, T), tokens): see sampler.h.
// Thread-safety: pure functions.
#pragma once

#include <ATen/ATen.h>

namespace forge::policy {

// logits [..., V] (any float dtype; computed in fp32), tokens [...] int64, mask [...] (nonzero =
// keep) or undefined. -> [...] fp32; 0 where mask is 0 (tokens there may be anything, e.g. -1).
// Differentiable with respect to logits.
at::Tensor token_log_probs(const at::Tensor& logits, const at::Tensor& tokens,
                           const at::Tensor& mask = {});

// logits / temperature in fp32; temperature 0 (greedy) leaves the logits unscaled, so greedy
// tokens carry temperature-1 logprobs. temperature [B] per row of logits [B, V], or a scalar.
at::Tensor temperature_scaled(const at::Tensor& logits, double temperature);
at::Tensor temperature_scaled(const at::Tensor& logits, const at::Tensor& temperature);

}  // namespace forge::policy
