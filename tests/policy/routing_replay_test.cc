// Routing replay (R3): last_routing() lists what a forward chose per real token; replaying it
// changes nothing (bit for bit); replaying other experts routes there (rows of -1 route as usual),
// changes the logits, keeps the gate's gradient, and lasts one forward; bad shapes are rejected.
#include <gtest/gtest.h>

#include "policy/model.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::micro_config;
using testing::randint;

struct Batch {
  at::Tensor ids, mask;
  int64_t tokens = 0;
};

Batch padded_batch(const ModelConfig& c) {
  const std::vector<int64_t> lens = {7, 3, 5};
  Batch b;
  b.ids = randint(c.vocab_size, {3, 7}, 4);
  b.mask = at::zeros({3, 7}, at::kLong);
  for (int i = 0; i < 3; ++i) b.mask[i].narrow(0, 0, lens[i]).fill_(1);
  b.tokens = 7 + 3 + 5;
  return b;
}

TEST(RoutingReplay, ReplayingTheChosenRoutingChangesNothing) {
  const ModelConfig c = micro_config();
  Model model(c, 3);
  model->eval();
  const Batch b = padded_batch(c);
  const at::Tensor logits = model->forward(b.ids, b.mask).logits;
  const std::vector<at::Tensor> chosen = model->last_routing();
  ASSERT_EQ(chosen.size(), 2u);  // layers 1 and 2 are MoE
  for (const at::Tensor& r : chosen) {
    EXPECT_EQ(r.sizes(), (std::vector<int64_t>{b.tokens, c.num_experts_per_tok}));  // no padding
  }
  model->replay_routing(chosen);
  EXPECT_TRUE(at::equal(model->forward(b.ids, b.mask).logits, logits));
}

TEST(RoutingReplay, ReplayedExpertsAreUsedForOneForwardAndKeepTheGateGradient) {
  const ModelConfig c = micro_config();
  Model model(c, 3);
  const Batch b = padded_batch(c);
  const at::Tensor natural = model->forward(b.ids, b.mask).logits.detach();
  const std::vector<at::Tensor> chosen = model->last_routing();

  // Force experts (e, e + 1) on every token, except the first token's row (-1: its own choice).
  std::vector<at::Tensor> forced;
  for (size_t l = 0; l < chosen.size(); ++l) {
    at::Tensor f = at::empty_like(chosen[l]);
    for (int64_t t = 0; t < b.tokens; ++t) {
      const int64_t e = (t + static_cast<int64_t>(l)) % (c.n_routed_experts - 1);
      f[t][0] = e;
      f[t][1] = e + 1;
    }
    f[0].fill_(-1);
    forced.push_back(f);
  }
  model->replay_routing(forced);
  ForwardOutput out = model->forward(b.ids, b.mask);
  const std::vector<at::Tensor> used = model->last_routing();
  for (size_t l = 0; l < used.size(); ++l) {
    EXPECT_TRUE(at::equal(used[l][0], chosen[l][0])) << l;  // the -1 row routed as usual
    EXPECT_TRUE(at::equal(used[l].narrow(0, 1, b.tokens - 1), forced[l].narrow(0, 1, b.tokens - 1)))
        << l;
  }
  EXPECT_GT((out.logits.detach() - natural).abs().max().item<double>(), 1e-4);
  out.logits.sum().backward();
  int gates = 0;
  for (const auto& [name, p] : model->named_tensors()) {
    if (name.find("mlp.gate.weight") == std::string::npos) continue;
    ++gates;
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << name;
  }
  EXPECT_EQ(gates, 2);  // one per MoE layer

  // The replay lasted one forward: the next routes by itself again.
  model->forward(b.ids, b.mask);
  const std::vector<at::Tensor> again = model->last_routing();
  for (size_t l = 0; l < again.size(); ++l) EXPECT_TRUE(at::equal(again[l], chosen[l])) << l;
}

TEST(RoutingReplay, ReplaysOfTheWrongShapeAreRejected) {
  const ModelConfig c = micro_config();
  Model model(c, 3);
  const Batch b = padded_batch(c);
  model->forward(b.ids, b.mask);
  std::vector<at::Tensor> chosen = model->last_routing();
  EXPECT_THROW(model->replay_routing({chosen[0]}), c10::Error);  // one tensor for two layers
  model->replay_routing({chosen[0].narrow(0, 0, 3), chosen[1].narrow(0, 0, 3)});
  EXPECT_THROW(model->forward(b.ids, b.mask), c10::Error);  // 3 rows for 15 tokens
  chosen[1][2][0] = c.n_routed_experts;
  model->replay_routing(chosen);
  EXPECT_THROW(model->forward(b.ids, b.mask), c10::Error);  // no such expert
}

}  // namespace
}  // namespace forge::policy
