// Sampling: greedy, temperature, top-k and top-p behave as documented; each sequence's seed alone
// decides its samples; logprobs are log softmax(logits / T) over the full vocabulary, computed by
// the same token_log_probs the trainer uses.
#include "policy/sampler.h"

#include <cmath>

#include <gtest/gtest.h>

#include "policy/log_probs.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::randn;

std::vector<int64_t> draw(const SamplingParams& p, uint64_t seed, const at::Tensor& logits, int n) {
  Sampler s(p, seed);
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(logits).token);
  return out;
}

TEST(Sampler, GreedyTakesTheArgmaxWithTemperatureOneLogprob) {
  at::Tensor logits = randn({50}, 1, 3.0);
  Sampler s({0.0, 1.0, 0}, 7);
  SampledToken t = s.sample(logits);
  EXPECT_EQ(t.token, logits.argmax().item<int64_t>());
  EXPECT_FLOAT_EQ(t.logprob, at::log_softmax(logits, 0)[t.token].item<float>());
  at::Tensor tie = at::zeros({5});
  EXPECT_EQ(s.sample(tie).token, 0);  // lowest id wins ties
}

TEST(Sampler, TheSeedAloneDecidesTheSamples) {
  at::Tensor logits = randn({30}, 2);
  SamplingParams p{1.0, 1.0, 0};
  EXPECT_EQ(draw(p, 42, logits, 50), draw(p, 42, logits, 50));
  EXPECT_NE(draw(p, 42, logits, 50), draw(p, 43, logits, 50));

  // Batched with other sequences or alone: the same tokens.
  Sampler alone(p, 5), with_a(p, 5), other(p, 6);
  at::Tensor rows = randn({2, 30}, 3);
  for (int i = 0; i < 20; ++i) {
    const int64_t solo = alone.sample(rows[0]).token;
    const auto both = sample_batch(rows, {&with_a, &other});
    EXPECT_EQ(solo, both[0].token);
  }
}

TEST(Sampler, TopKOneIsGreedyAndTopKLimitsTheSupport) {
  at::Tensor logits = randn({40}, 4);
  const int64_t best = logits.argmax().item<int64_t>();
  for (int64_t t : draw({1.5, 1.0, 1}, 9, logits, 30)) EXPECT_EQ(t, best);
  auto top3 = std::get<1>(logits.topk(3));
  std::set<int64_t> allowed(top3.data_ptr<int64_t>(), top3.data_ptr<int64_t>() + 3);
  std::set<int64_t> seen;
  for (int64_t t : draw({5.0, 1.0, 3}, 9, logits, 300)) {
    EXPECT_TRUE(allowed.count(t)) << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen, allowed);  // at temperature 5 all three appear
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
  // Probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps {0, 1}; top_p 0.85 keeps {0, 1, 2}.
  at::Tensor logits = at::log(at::tensor({0.5, 0.3, 0.15, 0.05}, at::kFloat));
  std::map<int64_t, int> counts;
  for (int64_t t : draw({1.0, 0.7, 0}, 11, logits, 2000)) ++counts[t];
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts[0] / 2000.0, 0.5 / 0.8, 0.04);  // renormalised over the nucleus
  counts.clear();
  for (int64_t t : draw({1.0, 0.85, 0}, 11, logits, 2000)) ++counts[t];
  EXPECT_EQ(counts.size(), 3u);
}

TEST(Sampler, FrequenciesFollowTheTemperatureScaledDistribution) {
  at::Tensor logits = at::tensor({1.0, 0.0, -1.0, 0.5}, at::kFloat);
  const double temperature = 0.7;
  at::Tensor probs = at::softmax(logits / temperature, 0);
  const int n = 8000;
  std::vector<int> counts(4, 0);
  for (int64_t t : draw({temperature, 1.0, 0}, 13, logits, n)) ++counts[t];
  for (int i = 0; i < 4; ++i) {
    const double p = probs[i].item<double>();
    const double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(counts[i] / static_cast<double>(n), p, 4 * sigma) << "token " << i;
  }
}

TEST(Sampler, LogprobIsFullVocabularyAtTheSamplingTemperature) {
  at::Tensor logits = randn({3, 25}, 5, 2.0);
  Sampler a({0.7, 0.5, 4}, 1), b({1.3, 1.0, 0}, 2), c({0.0, 1.0, 0}, 3);
  const auto picked = sample_batch(logits, {&a, &b, &c});
  const double temps[] = {0.7, 1.3, 1.0};
  for (int i = 0; i < 3; ++i) {
    // Untruncated, unrenormalised: top-k/top-p do not change the logprob.
    const float want = at::log_softmax(logits[i] / temps[i], 0)[picked[i].token].item<float>();
    EXPECT_NEAR(picked[i].logprob, want, 1e-6) << i;
    // Bit-identical to what a trainer computes with the shared functions.
    at::Tensor trainer = token_log_probs(temperature_scaled(logits[i].unsqueeze(0), temps[i]),
                                         at::tensor({picked[i].token}, at::kLong));
    EXPECT_EQ(picked[i].logprob, trainer.item<float>()) << i;
  }
}

TEST(Sampler, ParamsAreValidated) {
  EXPECT_NE(SamplingParams({-1.0, 1.0, 0}).validate().message().find("temperature"), std::string::npos);
  EXPECT_NE(SamplingParams({1.0, 0.0, 0}).validate().message().find("top_p"), std::string::npos);
  EXPECT_NE(SamplingParams({1.0, 1.0, -2}).validate().message().find("top_k"), std::string::npos);
  EXPECT_TRUE(SamplingParams({0.0, 1.0, 0}).validate().ok());
}

}  // namespace
}  // namespace forge::policy
