// Token sampling, one Sampler per sequence with its own seeded generator, so a sequence's samples
// depend only on its seed and its logits, never on the batch it decodes in.
//
// Strategies: temperature 0 = greedy (argmax; the lowest id wins ties); otherwise sample from
// softmax(logits / temperature) restricted to the top_k most likely tokens (top_k > 0) and then to
// the smallest set of most likely tokens whose probability reaches top_p (top_p < 1), renormalised.
//
// The logprob returned with each token is defined as
//   log softmax(logits / temperature)[token]   over the FULL vocabulary (no top-k/top-p truncation),
// with temperature 0 treated as 1, computed by token_log_probs(temperature_scaled(...)) in fp32
// (log_probs.h). The trainer recomputes exactly that from its own logits.
// Thread-safety: a Sampler is not thread-safe; distinct Samplers are independent.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/Generator.h>

#include "absl/status/status.h"

namespace forge::policy {

struct SamplingParams {
  double temperature = 1.0;  // 0 = greedy
  double top_p = 1.0;        // (0, 1]; 1 = off
  int top_k = 0;             // 0 = off
  absl::Status validate() const;  // names the bad field
};

struct SampledToken {
  int64_t token = 0;
  float logprob = 0.0f;  // see the definition above
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, uint64_t seed);

  // logits [V] of one sequence.
  SampledToken sample(const at::Tensor& logits);

  const SamplingParams& params() const { return params_; }

  // Picks a token from fp32 scaled logits [V] (contiguous, CPU), consuming one uniform draw unless
  // greedy. Used by sample_batch.
  int64_t pick(const float* scaled, int64_t vocab);

 private:
  SamplingParams params_;
  at::Generator generator_;
};

// Samples row b of logits [B, V] with samplers[b] (B samplers, each with its own params).
std::vector<SampledToken> sample_batch(const at::Tensor& logits,
                                       const std::vector<Sampler*>& samplers);

}  // namespace forge::policy
