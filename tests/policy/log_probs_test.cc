// token_log_probs: log softmax in fp32 over the full vocabulary, masked positions 0, differentiable.
#include "policy/log_probs.h"

#include <gtest/gtest.h>

#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::max_abs_diff;
using testing::randint;
using testing::randn;

TEST(TokenLogProbs, EqualsLogSoftmaxGather) {
  at::Tensor logits = randn({2, 5, 17}, 1, 3.0);
  at::Tensor tokens = randint(17, {2, 5}, 2);
  at::Tensor want = at::log_softmax(logits.to(at::kDouble), -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1);
  at::Tensor got = token_log_probs(logits, tokens);
  EXPECT_EQ(got.scalar_type(), at::kFloat);
  EXPECT_LT(max_abs_diff(got, want), 1e-5);
  // Half-precision logits are computed in fp32.
  EXPECT_EQ(token_log_probs(logits.to(at::kBFloat16), tokens).scalar_type(), at::kFloat);
}

TEST(TokenLogProbs, MaskedPositionsAreZeroAndMayHoldAnyToken) {
  at::Tensor logits = randn({2, 4, 9}, 3);
  at::Tensor tokens = randint(9, {2, 4}, 4);
  at::Tensor mask = at::tensor({1, 1, 0, 0, 1, 1, 1, 0}, at::kLong).view({2, 4});
  tokens[0][3] = -1;  // padding id outside the vocabulary
  at::Tensor got = token_log_probs(logits, tokens, mask);
  EXPECT_EQ(got[0][2].item<float>(), 0.0f);
  EXPECT_EQ(got[0][3].item<float>(), 0.0f);
  EXPECT_LT(got[1][2].item<float>(), 0.0f);
}

TEST(TokenLogProbs, GradientIsOneHotMinusSoftmax) {
  at::Tensor logits = randn({3, 7}, 5).requires_grad_();
  at::Tensor tokens = at::tensor({0, 6, 2}, at::kLong);
  token_log_probs(logits, tokens).sum().backward();
  at::Tensor want = at::one_hot(tokens, 7).to(at::kFloat) - at::softmax(logits.detach(), -1);
  EXPECT_LT(max_abs_diff(logits.grad(), want), 1e-6);
}

TEST(TemperatureScaled, ScalarAndPerRowTemperaturesAgreeExactly) {
  at::Tensor logits = randn({4, 11}, 6, 4.0);
  at::Tensor per_row = temperature_scaled(logits, at::tensor({0.7f, 0.7f, 0.0f, 1.3f}));
  EXPECT_TRUE(at::equal(per_row[0], temperature_scaled(logits[0], 0.7)));
  EXPECT_TRUE(at::equal(per_row[2], logits[2]));  // greedy rows: temperature 1
  EXPECT_TRUE(at::equal(per_row[3], temperature_scaled(logits[3], 1.3)));
}

}  // namespace
}  // namespace forge::policy
