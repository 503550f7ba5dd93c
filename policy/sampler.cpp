#include "policy/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <ATen/CPUGeneratorImpl.h>

#include "absl/strings/str_cat.h"
#include "policy/log_probs.h"

namespace forge::policy {

absl::Status SamplingParams::validate() const {
  if (!(temperature >= 0) || !std::isfinite(temperature)) {
    return absl::InvalidArgumentError(absl::StrCat("sampling temperature must be >= 0 (got ",
                                                   temperature, ")"));
  }
  if (!(top_p > 0 && top_p <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("sampling top_p must be in (0, 1] (got ", top_p, ")"));
  }
  if (top_k < 0) {
    return absl::InvalidArgumentError(absl::StrCat("sampling top_k must be >= 0 (got ", top_k, ")"));
  }
  return absl::OkStatus();
}

Sampler::Sampler(const SamplingParams& params, uint64_t seed)
    : params_(params), generator_(at::detail::createCPUGenerator(seed)) {}

int64_t Sampler::pick(const float* scaled, int64_t vocab) {
  if (params_.temperature == 0.0) {
    return std::max_element(scaled, scaled + vocab) - scaled;  // first maximum
  }
  // Unnormalised probabilities exp(x - max), in double.
  const float max_logit = *std::max_element(scaled, scaled + vocab);
  std::vector<double> prob(vocab);
  for (int64_t i = 0; i < vocab; ++i) prob[i] = std::exp(static_cast<double>(scaled[i]) - max_logit);

  // Candidate ids, most likely first when truncating (ties: lower id first).
  std::vector<int64_t> ids(vocab);
  std::iota(ids.begin(), ids.end(), 0);
  const auto more_likely = [&](int64_t a, int64_t b) {
    return prob[a] > prob[b] || (prob[a] == prob[b] && a < b);
  };
  int64_t kept = vocab;
  if (params_.top_k > 0 && params_.top_k < vocab) {
    kept = params_.top_k;
    std::partial_sort(ids.begin(), ids.begin() + kept, ids.end(), more_likely);
  }
  if (params_.top_p < 1.0) {
    if (kept == vocab) std::sort(ids.begin(), ids.end(), more_likely);
    double total = 0;
    for (int64_t i = 0; i < kept; ++i) total += prob[ids[i]];
    double cumulative = 0;
    int64_t n = 0;
    while (n < kept) {
      cumulative += prob[ids[n++]];
      if (cumulative >= params_.top_p * total) break;
    }
    kept = n;
  }
  double total = 0;
  for (int64_t i = 0; i < kept; ++i) total += prob[ids[i]];

  // One uniform draw from this sequence's generator, then the inverse CDF over the kept ids.
  at::Tensor u = at::empty({1}, at::kDouble);
  u.uniform_(0.0, 1.0, generator_);
  const double target = u.item<double>() * total;
  double cumulative = 0;
  for (int64_t i = 0; i < kept; ++i) {
    cumulative += prob[ids[i]];
    if (target < cumulative) return ids[i];
  }
  return ids[kept - 1];  // rounding left target at the very top
}

SampledToken Sampler::sample(const at::Tensor& logits) {
  TORCH_CHECK(logits.dim() == 1, "Sampler::sample: logits must be [V]");
  return sample_batch(logits.unsqueeze(0), {this})[0];
}

std::vector<SampledToken> sample_batch(const at::Tensor& logits,
                                       const std::vector<Sampler*>& samplers) {
  TORCH_CHECK(logits.dim() == 2 && logits.size(0) == static_cast<int64_t>(samplers.size()),
              "sample_batch: logits must be [B, V] for B samplers");
  const int64_t b = logits.size(0), vocab = logits.size(1);
  std::vector<float> temps(b);
  for (int64_t i = 0; i < b; ++i) temps[i] = static_cast<float>(samplers[i]->params().temperature);
  at::Tensor scaled = temperature_scaled(logits.to(at::kCPU), at::tensor(temps, at::kFloat))
                          .contiguous();                                       // [B, V] fp32
  std::vector<int64_t> tokens(b);
  const float* data = scaled.data_ptr<float>();
  for (int64_t i = 0; i < b; ++i) tokens[i] = samplers[i]->pick(data + i * vocab, vocab);
  at::Tensor logprobs =
      token_log_probs(scaled, at::tensor(tokens, at::kLong)).contiguous();    // [B]
  std::vector<SampledToken> out(b);
  for (int64_t i = 0; i < b; ++i) out[i] = {tokens[i], logprobs.data_ptr<float>()[i]};
  return out;
}

}  // namespace forge::policy
