// MLA: the absorbed form over the cached latent equals the naive form; the cache holds only
// kv_lora_rank + qk_rope_head_dim values per token; attention is causal and ignores padding keys.
#include "policy/mla.h"

#include <gtest/gtest.h>

#include "policy/rope.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::init_module;
using testing::max_abs_diff;
using testing::micro_config;
using testing::randn;

RopeCosSin cos_sin(const ModelConfig& c, const at::Tensor& positions) {
  at::Tensor inv_freq = at::tensor(rope_inv_freq(c), at::kDouble).to(at::kFloat);
  return rope_cos_sin(inv_freq, positions, rope_cos_sin_scale(c));
}

// Runs absorbed attention for every query position t of x [1, T, D] over latents 0..t and
// compares with the naive output. Tolerance (fp32): 1e-5 of the largest output magnitude.
void expect_absorbed_equals_naive(const ModelConfig& c) {
  MlaAttention attn(c);
  init_module(attn, 11, 0.5);
  const int64_t t = 24;
  at::Tensor x = randn({1, t, c.hidden_size}, 12);
  RopeCosSin cs = cos_sin(c, at::arange(t, at::kLong));
  AttentionOutput naive = attn(x, cs.cos, cs.sin, at::Tensor());
  ASSERT_EQ(naive.cache.size(-1), c.kv_lora_rank + c.qk_rope_head_dim);

  at::Tensor kv = naive.cache[0].unsqueeze(0).expand({t, t, naive.cache.size(-1)}).contiguous();
  at::Tensor valid = at::ones({t, t}, at::kBool).tril();  // query t sees latents 0..t
  at::Tensor absorbed = attn->decode(x[0], cs.cos, cs.sin, kv, valid);
  const double scale = naive.out.abs().max().item<double>();
  EXPECT_GT(scale, 1.0);  // not trivially small
  EXPECT_LT(max_abs_diff(absorbed, naive.out[0]), 1e-5 * scale) << "scale " << scale;
}

TEST(Mla, AbsorbedEqualsNaiveWithLowRankQuery) {
  expect_absorbed_equals_naive(micro_config());
}

TEST(Mla, AbsorbedEqualsNaiveWithPlainQProj) {
  ModelConfig c = micro_config();
  c.q_lora_rank.reset();  // DeepSeek-V2-Lite style q_proj
  MlaAttention attn(c);
  EXPECT_FALSE(attn->q_proj.is_empty());
  EXPECT_TRUE(attn->q_a_proj.is_empty());
  expect_absorbed_equals_naive(c);
}

TEST(Mla, CausalAndPaddingKeysDoNotLeak) {
  ModelConfig c = micro_config();
  MlaAttention attn(c);
  init_module(attn, 5);
  const int64_t t = 10;
  at::Tensor x = randn({2, t, c.hidden_size}, 6);
  RopeCosSin cs = cos_sin(c, at::arange(t, at::kLong));
  at::Tensor mask = at::ones({2, t}, at::kBool);
  mask[1].narrow(0, 6, 4).fill_(false);  // row 1: 6 real tokens, then padding
  AttentionOutput a = attn(x, cs.cos, cs.sin, mask);

  at::Tensor y = x.clone();
  y[0][7].add_(3.0);  // a later token of row 0
  y[1][8].add_(3.0);  // a padding token of row 1
  AttentionOutput b = attn(y, cs.cos, cs.sin, mask);
  EXPECT_EQ(max_abs_diff(a.out[0].narrow(0, 0, 7), b.out[0].narrow(0, 0, 7)), 0.0);
  EXPECT_GT(max_abs_diff(a.out[0][7], b.out[0][7]), 1e-3);
  EXPECT_EQ(max_abs_diff(a.out[1].narrow(0, 0, 6), b.out[1].narrow(0, 0, 6)), 0.0);

  // Row 1 alone, unpadded, equals its padded version.
  AttentionOutput alone = attn(x[1].narrow(0, 0, 6).unsqueeze(0), cs.cos.narrow(0, 0, 6),
                         cs.sin.narrow(0, 0, 6), at::Tensor());
  EXPECT_LT(max_abs_diff(alone.out[0], a.out[1].narrow(0, 0, 6)), 1e-6);
}

}  // namespace
}  // namespace forge::policy
