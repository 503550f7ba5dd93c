// DeepSeekMoE routing and balancing: the bias selects but never weights, group-limited routing stays
// in the kept groups, gradients reach every expert that got tokens, the aux-loss-free update lowers
// imbalance, and the sequence-wise aux loss matches its definition.
#include "policy/moe.h"

#include <set>

#include <gtest/gtest.h>

#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::init_module;
using testing::max_abs_diff;
using testing::micro_config;
using testing::randn;

TEST(MoeGate, BiasChangesSelectionButNotWeights) {
  ModelConfig c = micro_config();
  MoeGate gate(c);
  init_module(gate, 1);
  at::Tensor x = randn({64, c.hidden_size}, 2);
  Routing plain = gate(x);

  // Bias expert 5 (group 1) up hard: every token now routes to it.
  gate->e_score_correction_bias[5] = 10.0f;
  Routing biased = gate(x);
  EXPECT_TRUE(at::equal(plain.scores, biased.scores));  // affinities ignore the bias
  EXPECT_TRUE(biased.topk_idx.eq(5).any(1).all().item<bool>());
  EXPECT_FALSE(at::equal(plain.topk_idx, biased.topk_idx));

  // Weights: affinity (no bias) of each chosen expert, renormalised, times the scaling factor.
  at::Tensor s = biased.scores.gather(1, biased.topk_idx);                   // [N, K]
  at::Tensor want = s / s.sum(1, true) * c.routed_scaling_factor;
  EXPECT_LT(max_abs_diff(biased.topk_weight, want), 1e-6);
  EXPECT_LT(max_abs_diff(biased.topk_weight.sum(1),
                         at::full({64}, c.routed_scaling_factor)), 1e-5);
}

TEST(MoeGate, GroupLimitedRoutingNeverLeavesTheKeptGroups) {
  ModelConfig c = micro_config();
  c.n_routed_experts = 16;
  c.n_group = 4;
  c.topk_group = 2;
  c.num_experts_per_tok = 3;
  MoeGate gate(c);
  init_module(gate, 3, 0.5);
  gate->e_score_correction_bias.copy_(randn({16}, 4, 0.3));
  const int64_t n = 256, per_group = 4;
  at::Tensor x = randn({n, c.hidden_size}, 5);
  Routing r = gate(x);

  at::Tensor choice = r.scores + gate->e_score_correction_bias;             // [N, E]
  auto ch = choice.accessor<float, 2>();
  auto idx = r.topk_idx.accessor<int64_t, 2>();
  int tokens_whose_global_topk_leaves = 0;
  for (int64_t t = 0; t < n; ++t) {
    // Group score: sum of the group's two best choices; keep the best topk_group groups.
    std::vector<std::pair<float, int>> groups;
    for (int g = 0; g < 4; ++g) {
      std::vector<float> v(ch[t].data() + g * per_group, ch[t].data() + (g + 1) * per_group);
      std::sort(v.rbegin(), v.rend());
      groups.push_back({v[0] + v[1], g});
    }
    std::sort(groups.rbegin(), groups.rend());
    const std::set<int> kept = {groups[0].second, groups[1].second};
    for (int k = 0; k < 3; ++k) {
      EXPECT_TRUE(kept.count(static_cast<int>(idx[t][k] / per_group)))
          << "token " << t << " expert " << idx[t][k];
    }
    // Would plain top-3 over all experts have left the kept groups? (Makes the test meaningful.)
    std::vector<int> order(16);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return ch[t][a] > ch[t][b]; });
    for (int k = 0; k < 3; ++k) {
      if (!kept.count(order[k] / per_group)) {
        ++tokens_whose_global_topk_leaves;
        break;
      }
    }
  }
  EXPECT_GT(tokens_whose_global_topk_leaves, 10);
}

TEST(MoeGate, SoftmaxGreedyIsDeepSeekV2Routing) {
  ModelConfig c = micro_config();
  c.scoring_func = "softmax";
  c.topk_method = "greedy";
  c.n_group = 1;
  c.topk_group = 1;
  c.norm_topk_prob = false;
  c.routed_scaling_factor = 1.0;
  MoeGate gate(c);
  EXPECT_FALSE(gate->e_score_correction_bias.defined());  // V2 checkpoints have no bias
  init_module(gate, 7);
  at::Tensor x = randn({32, c.hidden_size}, 8);
  Routing r = gate(x);
  at::Tensor probs = at::linear(x, gate->weight).softmax(-1);
  auto top = probs.topk(2, -1);
  EXPECT_TRUE(at::equal(std::get<1>(top), r.topk_idx));
  EXPECT_LT(max_abs_diff(std::get<0>(top), r.topk_weight), 1e-6);
}

TEST(Moe, GradientsReachEveryExpertThatReceivedTokens) {
  ModelConfig c = micro_config();
  Moe moe(c);
  init_module(moe, 9);
  at::Tensor x = randn({2, 12, c.hidden_size}, 10);
  MoeOutput out = moe(x, at::Tensor());
  out.out.pow(2).sum().backward();
  at::Tensor load = moe->last_load();
  EXPECT_EQ(load.sum().item<int64_t>(), 2 * 12 * c.num_experts_per_tok);
  int with_tokens = 0;
  for (int e = 0; e < c.n_routed_experts; ++e) {
    auto params = moe->experts[e]->parameters();
    for (const at::Tensor& p : params) {
      const bool has_grad = p.grad().defined() && p.grad().abs().sum().item<double>() > 0;
      EXPECT_EQ(has_grad, load[e].item<int64_t>() > 0) << "expert " << e;
    }
    with_tokens += load[e].item<int64_t>() > 0;
  }
  EXPECT_GE(with_tokens, 2);
  EXPECT_GT(moe->gate->weight.grad().abs().sum().item<double>(), 0);  // through the weights
  for (const at::Tensor& p : moe->shared_experts->parameters()) {
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0);
  }
}

TEST(Moe, PaddingIsNotRoutedOrCounted) {
  ModelConfig c = micro_config();
  Moe moe(c);
  init_module(moe, 13);
  at::Tensor x = randn({2, 8, c.hidden_size}, 14);
  at::Tensor valid = at::ones({2, 8}, at::kBool);
  valid[1].narrow(0, 3, 5).fill_(false);
  MoeOutput out = moe(x, valid);
  EXPECT_EQ(moe->last_load().sum().item<int64_t>(), (8 + 3) * c.num_experts_per_tok);
  EXPECT_EQ(out.out[1].narrow(0, 3, 5).abs().sum().item<double>(), 0.0);
  MoeOutput alone = moe(x[0].unsqueeze(0), at::Tensor());
  EXPECT_LT(max_abs_diff(alone.out[0], out.out[0]), 1e-6);
}

TEST(Moe, BalancingUpdateLowersImbalanceOnASkewedRouter) {
  ModelConfig c = micro_config();
  Moe moe(c);
  init_module(moe, 15, 0.05);
  // Skew: tokens share a direction that expert 0's gate row is aligned with.
  at::Tensor dir = randn({c.hidden_size}, 16);
  dir = dir / dir.norm();
  {
    at::NoGradGuard no_grad;
    moe->gate->weight[0].copy_(dir * 3.0);
    moe->gate->weight[1].copy_(dir * 2.0);
  }
  at::Tensor x = randn({4, 32, c.hidden_size}, 17) + dir * 2.0;
  moe->train();
  auto imbalance_now = [&] {
    at::NoGradGuard no_grad;
    moe(x, at::Tensor());
    return load_imbalance(moe->pending_load());
  };
  const double before = imbalance_now();
  moe->update_bias(0.0);  // gamma 0: frozen
  EXPECT_EQ(moe->gate->e_score_correction_bias.abs().sum().item<double>(), 0.0);
  double after = before;
  for (int step = 0; step < 60; ++step) {
    after = imbalance_now();
    moe->update_bias(0.01);
  }
  EXPECT_GT(before, 3.0);  // expert 0 takes nearly every token
  EXPECT_LT(after, before / 2) << "before " << before << " after " << after;
  EXPECT_GT(moe->gate->e_score_correction_bias[7].item<double>(), 0);  // under-loaded rises
  EXPECT_LT(moe->gate->e_score_correction_bias[0].item<double>(), 0);  // over-loaded falls
}

TEST(Moe, SequenceAuxLossMatchesItsDefinition) {
  ModelConfig c = micro_config();
  c.aux_loss_alpha = 0.01;
  Moe moe(c);
  init_module(moe, 19);
  const int64_t b = 2, t = 6, e = c.n_routed_experts, k = c.num_experts_per_tok;
  at::Tensor x = randn({b, t, c.hidden_size}, 20);
  at::Tensor valid = at::ones({b, t}, at::kBool);
  valid[1].narrow(0, 4, 2).fill_(false);  // row 1 has 4 tokens
  MoeOutput out = moe(x, valid);
  ASSERT_TRUE(out.aux_loss.defined());

  double want = 0;
  for (int64_t row = 0; row < b; ++row) {
    const int64_t len = row == 0 ? t : 4;
    Routing r = moe->gate(x[row].narrow(0, 0, len));
    at::Tensor s = r.scores / r.scores.sum(1, true);
    double sum = 0;
    for (int64_t i = 0; i < e; ++i) {
      const double f = r.topk_idx.eq(i).sum().item<double>() * e / (k * len);
      const double p = s.select(1, i).mean().item<double>();
      sum += f * p;
    }
    want += sum / b;
  }
  EXPECT_NEAR(out.aux_loss.item<double>(), 0.01 * want, 1e-7);
  out.aux_loss.backward();
  EXPECT_GT(moe->gate->weight.grad().abs().sum().item<double>(), 0);
}

}  // namespace
}  // namespace forge::policy
