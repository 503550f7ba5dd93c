// RoPE and YaRN: frequencies equal the closed form of the YaRN paper, cos/sin and the rotation equal
// their definitions, and attention scores depend only on relative position.
#include "policy/rope.h"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::max_abs_diff;
using testing::micro_config;
using testing::randn;
using testing::tiny_config;

constexpr double kPi = 3.14159265358979323846;

// YaRN's wavelength boundaries, written out from the paper: dimension pair i has wavelength
// 2 pi / f_i; it makes L0 / wavelength turns over the original context. Pairs that turn more than
// beta_fast times keep f_i, pairs that turn fewer than beta_slow times use f_i / s, linear between
// (in the index, with DeepSeek's floor/ceil rounding of the boundaries).
TEST(Rope, YarnFrequenciesMatchTheClosedForm) {
  for (ModelConfig c : {tiny_config(), micro_config()}) {
    const RopeScaling rs = *c.rope_scaling;
    const int d = c.qk_rope_head_dim;
    auto dim_for_turns = [&](double turns) {
      // Solve L0 / (2 pi theta^(2i/d)) = turns for i.
      return d * std::log(rs.original_max_position_embeddings / (turns * 2 * kPi)) /
             (2 * std::log(c.rope_theta));
    };
    double low = std::max(std::floor(dim_for_turns(rs.beta_fast)), 0.0);
    double high = std::min(std::ceil(dim_for_turns(rs.beta_slow)), d - 1.0);
    if (low == high) high += 0.001;

    const std::vector<double> got = rope_inv_freq(c);
    ASSERT_EQ(got.size(), static_cast<size_t>(d / 2));
    int extrapolated = 0, interpolated = 0, blended = 0;
    for (int i = 0; i < d / 2; ++i) {
      const double base = std::pow(c.rope_theta, -2.0 * i / d);
      double want;
      if (i <= low) {
        want = base;
        ++extrapolated;
      } else if (i >= high) {
        want = base / rs.factor;
        ++interpolated;
      } else {
        const double t = (i - low) / (high - low);
        want = base * (1 - t) + base / rs.factor * t;
        ++blended;
      }
      EXPECT_NEAR(got[i], want, 1e-12 * std::max(1.0, want)) << "pair " << i;
    }
    // Every regime is exercised by these configs.
    EXPECT_GT(extrapolated, 0);
    EXPECT_GT(interpolated, 0);
    EXPECT_GT(blended, 0);
  }
}

TEST(Rope, WithoutScalingFrequenciesArePlain) {
  ModelConfig c = micro_config();
  c.rope_scaling.reset();
  const std::vector<double> got = rope_inv_freq(c);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_DOUBLE_EQ(got[i], 1.0 / std::pow(c.rope_theta, 2.0 * i / c.qk_rope_head_dim));
  }
  EXPECT_DOUBLE_EQ(rope_cos_sin_scale(c), 1.0);
  EXPECT_DOUBLE_EQ(attention_softmax_scale(c), 1.0 / std::sqrt(16.0));
}

TEST(Rope, MscaleEntersCosSinAndTheSoftmaxScale) {
  ModelConfig c = micro_config();  // factor 4, mscale 0.8, mscale_all_dim 0.7
  const double m = 0.1 * 0.8 * std::log(4.0) + 1.0;
  const double m_all = 0.1 * 0.7 * std::log(4.0) + 1.0;
  EXPECT_NEAR(rope_cos_sin_scale(c), m / m_all, 1e-12);
  EXPECT_NEAR(attention_softmax_scale(c), m_all * m_all / std::sqrt(16.0), 1e-12);
  ModelConfig t = tiny_config();  // mscale == mscale_all_dim: cos/sin unscaled
  EXPECT_NEAR(rope_cos_sin_scale(t), 1.0, 1e-12);
  const double mt = 0.1 * std::log(t.rope_scaling->factor) + 1.0;
  EXPECT_NEAR(attention_softmax_scale(t), mt * mt / std::sqrt(t.qk_head_dim()), 1e-12);
}

TEST(Rope, RotationMatchesPairwiseDefinition) {
  ModelConfig c = micro_config();
  const std::vector<double> freq = rope_inv_freq(c);
  at::Tensor inv_freq = at::tensor(freq, at::kDouble).to(at::kFloat);
  const int64_t t = 10, h = 3, d = c.qk_rope_head_dim;
  at::Tensor x = randn({t, h, d}, 1);
  at::Tensor positions = at::arange(t, at::kLong) * 5;  // up to 45, past the original context
  const double scale = rope_cos_sin_scale(c);
  RopeCosSin cs = rope_cos_sin(inv_freq, positions, scale);
  at::Tensor y = apply_rope(x, cs.cos.unsqueeze(1), cs.sin.unsqueeze(1));
  at::Tensor want = at::empty_like(x, at::kDouble);
  auto xa = x.accessor<float, 3>();
  auto wa = want.accessor<double, 3>();
  for (int64_t p = 0; p < t; ++p) {
    for (int64_t k = 0; k < h; ++k) {
      for (int64_t i = 0; i < d / 2; ++i) {
        const double angle = (5.0 * p) * static_cast<float>(freq[i]);
        const double co = std::cos(angle) * scale, si = std::sin(angle) * scale;
        wa[p][k][2 * i] = xa[p][k][2 * i] * co - xa[p][k][2 * i + 1] * si;
        wa[p][k][2 * i + 1] = xa[p][k][2 * i] * si + xa[p][k][2 * i + 1] * co;
      }
    }
  }
  EXPECT_LT(max_abs_diff(y, want), 1e-5);
}

TEST(Rope, ScoresDependOnlyOnRelativePosition) {
  ModelConfig c = micro_config();
  c.rope_scaling->mscale = c.rope_scaling->mscale_all_dim;  // unit cos/sin scale
  at::Tensor inv_freq = at::tensor(rope_inv_freq(c), at::kDouble).to(at::kFloat);
  at::Tensor q = randn({c.qk_rope_head_dim}, 2), k = randn({c.qk_rope_head_dim}, 3);
  auto score = [&](int64_t m, int64_t n) {
    RopeCosSin a = rope_cos_sin(inv_freq, at::tensor({m}, at::kLong), 1.0);
    RopeCosSin b = rope_cos_sin(inv_freq, at::tensor({n}, at::kLong), 1.0);
    return (apply_rope(q.unsqueeze(0), a.cos, a.sin) * apply_rope(k.unsqueeze(0), b.cos, b.sin))
        .sum().item<double>();
  };
  EXPECT_NEAR(score(7, 3), score(27, 23), 1e-4);
  EXPECT_NEAR(score(0, 0), score(40, 40), 1e-4);
  EXPECT_GT(std::abs(score(7, 3) - score(3, 7)), 1e-3);  // order matters
}

}  // namespace
}  // namespace forge::policy
