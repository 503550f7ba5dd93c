// The whole model: Hugging Face names, the analytic parameter count, seeded init, padded batches,
// causality, expert load, and that training moves the loss.
#include "policy/model.h"

#include <set>

#include <gtest/gtest.h>
#include <torch/optim/adamw.h>

#include "policy/log_probs.h"
#include "policy/model_stats.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::max_abs_diff;
using testing::micro_config;
using testing::randint;
using testing::tiny_config;

TEST(Model, TensorNamesAreHuggingFaceDeepSeekV3Names) {
  ModelConfig c = tiny_config();
  Model model(c, 1);
  std::set<std::string> want = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"};
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* n : {"q_a_proj", "q_a_layernorm", "q_b_proj", "kv_a_proj_with_mqa",
                          "kv_a_layernorm", "kv_b_proj", "o_proj"}) {
      want.insert(p + "self_attn." + n + ".weight");
    }
    want.insert(p + "input_layernorm.weight");
    want.insert(p + "post_attention_layernorm.weight");
    const std::vector<const char*> projs = {"gate_proj", "up_proj", "down_proj"};
    if (i < c.first_k_dense_replace) {
      for (const char* n : projs) want.insert(p + "mlp." + n + ".weight");
    } else {
      want.insert(p + "mlp.gate.weight");
      want.insert(p + "mlp.gate.e_score_correction_bias");
      for (int j = 0; j < c.n_routed_experts; ++j) {
        for (const char* n : projs) {
          want.insert(p + "mlp.experts." + std::to_string(j) + "." + n + ".weight");
        }
      }
      for (const char* n : projs) want.insert(p + "mlp.shared_experts." + n + ".weight");
    }
  }
  std::set<std::string> got;
  for (const auto& [name, tensor] : model->named_tensors()) got.insert(name);
  EXPECT_EQ(got, want);
  // The routing bias is an fp32 buffer, not a trained parameter.
  for (const auto& item : model->named_parameters()) {
    EXPECT_EQ(item.key().find("e_score_correction_bias"), std::string::npos);
  }
}

TEST(Model, ParameterCountOfTinyEqualsTheAnalyticCount) {
  ModelConfig c = tiny_config();
  Model model(c, 1);
  int64_t counted = 0;
  for (const at::Tensor& p : model->parameters()) counted += p.numel();
  // By hand, from tiny.json (D 256, V 272, 4 heads, q/kv ranks 64/32, dims 32+16 / 32):
  //   attention per layer: 256*64 + 64 + 64*4*48 + 256*48 + 32 + 32*4*64 + 128*256 = 82016
  //   norms per layer 512; dense MLP 3*256*640 = 491520
  //   MoE layer: 8 experts * 3*256*128 + shared 3*256*128 + gate 8*256 = 886784
  //   embeddings 2 * 272*256 = 139264, final norm 256
  const int64_t by_hand = 139264 + 256 + 4 * (82016 + 512) + 491520 + 3 * 886784;
  EXPECT_EQ(counted, by_hand);
  const ModelStats stats = model_stats(c);
  EXPECT_EQ(stats.total_params, counted);
  // Active: 2 of 8 routed experts per MoE layer.
  EXPECT_EQ(stats.active_params, by_hand - 3 * 6 * 3 * 256 * 128);
  EXPECT_EQ(stats.kv_cache_values_per_token, 4 * (32 + 16));
  for (auto variant : {micro_config(), [] {
                         ModelConfig m = micro_config();
                         m.q_lora_rank.reset();
                         m.tie_word_embeddings = true;
                         m.n_shared_experts = 2;
                         return m;
                       }()}) {
    Model m(variant, 1);
    int64_t n = 0;
    for (const at::Tensor& p : m->parameters()) n += p.numel();
    EXPECT_EQ(model_stats(variant).total_params, n);
  }
}

TEST(Model, SameSeedSameWeightsOtherSeedOtherWeights) {
  ModelConfig c = micro_config();
  Model a(c, 7), b(c, 7), other(c, 8);
  auto ta = a->named_tensors(), tb = b->named_tensors(), to = other->named_tensors();
  bool all_equal = true, any_differs = false;
  for (size_t i = 0; i < ta.size(); ++i) {
    all_equal = all_equal && at::equal(ta[i].second, tb[i].second);
    any_differs = any_differs || !at::equal(ta[i].second, to[i].second);
  }
  EXPECT_TRUE(all_equal);
  EXPECT_TRUE(any_differs);
}

TEST(Model, PaddedBatchEqualsEachSequenceAlone) {
  ModelConfig c = micro_config();
  Model model(c, 3);
  model->eval();
  const std::vector<int64_t> lens = {9, 4, 7};
  at::Tensor ids = randint(c.vocab_size, {3, 9}, 4);
  at::Tensor mask = at::zeros({3, 9}, at::kLong);
  for (int i = 0; i < 3; ++i) mask[i].narrow(0, 0, lens[i]).fill_(1);
  at::Tensor batch = model->forward(ids, mask).logits;  // [3, 9, V]
  ASSERT_EQ(batch.sizes(), (std::vector<int64_t>{3, 9, c.vocab_size}));
  ASSERT_EQ(batch.scalar_type(), at::kFloat);
  for (int i = 0; i < 3; ++i) {
    at::Tensor alone = model->forward(ids[i].narrow(0, 0, lens[i]).unsqueeze(0)).logits[0];
    EXPECT_LT(max_abs_diff(alone, batch[i].narrow(0, 0, lens[i])), 1e-5) << "row " << i;
  }
  at::Tensor last = model->last_logits(ids, mask);  // [3, V]
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT(max_abs_diff(last[i], batch[i][lens[i] - 1]), 1e-5);
  }
  // Load counts real tokens only.
  model->forward(ids, mask);
  for (const ExpertLoad& l : model->expert_load()) {
    EXPECT_EQ(l.load.sum().item<int64_t>(), (9 + 4 + 7) * c.num_experts_per_tok) << l.layer;
  }
  EXPECT_EQ(model->expert_load().size(), 2u);  // layers 1 and 2 are MoE
}

TEST(Model, PackedDocumentsEqualEachDocumentAlone) {
  ModelConfig c = micro_config();
  c.aux_loss_alpha = 0.01;  // sequence-wise (seq_aux): each document is a sequence
  Model model(c, 3);
  model->train();  // grad mode on: the aux loss is computed
  // Row 0 holds documents of 5, 3 and 2 tokens; row 1 one of 6 tokens and 4 of padding.
  const std::vector<std::vector<int64_t>> docs_of_row = {{5, 3, 2}, {6}};
  at::Tensor ids = randint(c.vocab_size, {2, 10}, 4);
  at::Tensor segments = at::zeros({2, 10}, at::kLong);
  std::vector<std::pair<int64_t, int64_t>> spans[2];  // (start, length) per row
  for (int r = 0; r < 2; ++r) {
    int64_t start = 0;
    for (size_t d = 0; d < docs_of_row[r].size(); ++d) {
      segments[r].narrow(0, start, docs_of_row[r][d]).fill_(int64_t(d + 1));
      spans[r].emplace_back(start, docs_of_row[r][d]);
      start += docs_of_row[r][d];
    }
  }
  ForwardOutput packed = model->forward_packed(ids, segments);  // [2, 10, V]
  ASSERT_EQ(packed.logits.sizes(), (std::vector<int64_t>{2, 10, c.vocab_size}));
  for (const ExpertLoad& l : model->expert_load()) {
    EXPECT_EQ(l.load.sum().item<int64_t>(), 16 * c.num_experts_per_tok) << l.layer;
  }
  // The same four documents, one per row, right-padded: same logits and the same aux loss.
  at::Tensor padded_ids = at::zeros({4, 6}, at::kLong), mask = at::zeros({4, 6}, at::kLong);
  int row = 0;
  for (int r = 0; r < 2; ++r) {
    for (const auto& [start, len] : spans[r]) {
      padded_ids[row].narrow(0, 0, len).copy_(ids[r].narrow(0, start, len));
      mask[row].narrow(0, 0, len).fill_(1);
      at::Tensor alone = model->forward(ids[r].narrow(0, start, len).unsqueeze(0)).logits[0];
      EXPECT_LT(max_abs_diff(alone, packed.logits[r].narrow(0, start, len)), 1e-5)
          << "row " << r << " document at " << start;
      ++row;
    }
  }
  ForwardOutput padded = model->forward(padded_ids, mask);
  EXPECT_GT(packed.aux_loss.item<double>(), 0.0);
  EXPECT_NEAR(packed.aux_loss.item<double>(), padded.aux_loss.item<double>(), 1e-6);
}

TEST(Model, PackedSegmentsOutOfOrderAreRejected) {
  ModelConfig c = micro_config();
  Model model(c, 3);
  at::Tensor ids = randint(c.vocab_size, {1, 5}, 4);
  for (const std::vector<int64_t>& bad : {std::vector<int64_t>{1, 1, 0, 2, 2},   // a gap
                                          std::vector<int64_t>{2, 2, 1, 1, 0},   // decreasing
                                          std::vector<int64_t>{1, -1, 0, 0, 0}}) {
    EXPECT_THROW(model->forward_packed(ids, at::tensor(bad, at::kLong).unsqueeze(0)), c10::Error);
  }
  EXPECT_NO_THROW(model->forward_packed(ids, at::tensor({1, 1, 2, 3, 0}, at::kLong).unsqueeze(0)));
}

TEST(Model, LeftPaddingIsRejected) {
  ModelConfig c = micro_config();
  Model model(c, 3);
  at::Tensor ids = randint(c.vocab_size, {1, 4}, 4);
  at::Tensor mask = at::tensor({0, 1, 1, 1}, at::kLong).unsqueeze(0);
  EXPECT_THROW(model->forward(ids, mask), c10::Error);
}

TEST(Model, FutureTokensDoNotChangePastLogits) {
  ModelConfig c = micro_config();
  Model model(c, 5);
  at::Tensor ids = randint(c.vocab_size, {1, 12}, 6);
  at::Tensor a = model->forward(ids).logits;
  at::Tensor changed = ids.clone();
  changed[0][8] = (ids[0][8].item<int64_t>() + 1) % c.vocab_size;
  at::Tensor b = model->forward(changed).logits;
  // Not bit-exact: the changed token regroups the MoE's per-expert matrix products, whose float
  // rounding depends on the group sizes (~1e-7 here).
  EXPECT_LT(max_abs_diff(a[0].narrow(0, 0, 8), b[0].narrow(0, 0, 8)), 1e-5);
  EXPECT_GT(max_abs_diff(a[0][8], b[0][8]), 1e-4);
}

TEST(Model, TrainingStepsLowerTheLossAndReachEveryRoutedExpert) {
  ModelConfig c = micro_config();
  c.aux_loss_alpha = 0.001;
  Model model(c, 9);
  model->train();
  at::Tensor ids = randint(c.vocab_size, {4, 16}, 10);
  at::Tensor inputs = ids.narrow(1, 0, 15), targets = ids.narrow(1, 1, 15);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.0));
  double first = 0, last = 0;
  for (int step = 0; step < 8; ++step) {
    opt.zero_grad();
    ForwardOutput out = model->forward(inputs);
    at::Tensor loss = -token_log_probs(out.logits, targets).mean() + out.aux_loss;
    loss.backward();
    if (step == 0) {
      for (const ExpertLoad& l : model->expert_load()) {
        auto moe = model->model->layer_list[l.layer]->moe;
        for (int e = 0; e < c.n_routed_experts; ++e) {
          const at::Tensor& g = moe->experts[e]->as<MlpImpl>()->down_proj->weight.grad();
          const bool has_grad = g.defined() && g.abs().sum().item<double>() > 0;
          EXPECT_EQ(has_grad, l.load[e].item<int64_t>() > 0) << "layer " << l.layer << " expert " << e;
        }
      }
      first = loss.item<double>();
    }
    opt.step();
    model->update_routing_bias(0.001);
    last = loss.item<double>();
  }
  EXPECT_LT(last, first - 0.1) << first << " -> " << last;
}

}  // namespace
}  // namespace forge::policy
