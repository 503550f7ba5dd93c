// GQA families (Qwen2, Llama, Qwen3, Qwen3-MoE) in Forge's own terms: their module trees hold
// exactly the Hugging Face names, the closed-form sizes match the built model, cached decoding over
// the K/V cache equals the full forward as sequences of different lengths join and leave, and
// bf16 parameters keep the fp32 routing biases. (Agreement with Hugging Face's arithmetic is
// hf_families_test.cc.)
#include <set>

#include <gtest/gtest.h>

#include "policy/generate.h"
#include "policy/kv_cache.h"
#include "policy/model.h"
#include "policy/model_stats.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::max_abs_diff;

std::vector<ModelConfig> gqa_configs() {
  return {testing::small_qwen3_moe(), testing::small_llama(), testing::small_qwen2()};
}

TEST(Gqa, TensorNamesAreTheFamiliesHuggingFaceNames) {
  Model moe(testing::small_qwen3_moe(), 1);
  std::set<std::string> names;
  for (const auto& [name, t] : moe->named_tensors()) names.insert(name);
  for (const char* n : {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_norm.weight",
                        "model.layers.0.self_attn.q_norm.weight", "model.layers.0.mlp.gate.weight",
                        "model.layers.0.mlp.experts.7.down_proj.weight",
                        "model.layers.1.mlp.up_proj.weight", "model.layers.2.mlp.experts.0.gate_proj.weight",
                        "lm_head.weight"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_FALSE(names.count("model.layers.0.self_attn.q_proj.bias"));
  EXPECT_FALSE(names.count("model.layers.1.mlp.gate.weight"));  // mlp_only_layers: [1]
  EXPECT_FALSE(names.count("model.layers.0.mlp.gate.e_score_correction_bias"));

  Model qwen2(testing::small_qwen2(), 1);
  names.clear();
  for (const auto& [name, t] : qwen2->named_tensors()) names.insert(name);
  EXPECT_TRUE(names.count("model.layers.1.self_attn.v_proj.bias"));
  EXPECT_FALSE(names.count("model.layers.1.self_attn.o_proj.bias"));
  EXPECT_FALSE(names.count("model.layers.1.self_attn.q_norm.weight"));

  Model llama(testing::small_llama(), 1);
  names.clear();
  for (const auto& [name, t] : llama->named_tensors()) names.insert(name);
  EXPECT_TRUE(names.count("model.layers.0.self_attn.o_proj.bias"));
  EXPECT_TRUE(names.count("model.layers.0.mlp.down_proj.bias"));
}

TEST(Gqa, ClosedFormSizesMatchTheBuiltModels) {
  for (const ModelConfig& c : gqa_configs()) {
    Model model(c, 1);
    int64_t params = 0;
    for (const auto& p : model->parameters()) params += p.numel();
    const ModelStats s = model_stats(c);
    EXPECT_EQ(s.total_params, params) << c.traits().model_type;
    EXPECT_EQ(s.kv_cache_values_per_token,
              int64_t{c.num_hidden_layers} * 2 * c.num_key_value_heads * c.gqa_head_dim());
  }
}

// Prefill part of each sequence, then decode the rest token by token with sequences joining and
// leaving; every step's logits equal the full forward's at that position.
TEST(Gqa, CachedDecodingEqualsTheFullForward) {
  for (const ModelConfig& c : gqa_configs()) {
    SCOPED_TRACE(c.traits().model_type);
    Model model(c, 3);
    model->eval();
    KvCache::Options o;
    o.budget_bytes = int64_t{8} << 20;
    o.max_seq_len = 32;
    auto cache = KvCache::create(c, o);
    ASSERT_TRUE(cache.ok()) << cache.status();
    EXPECT_EQ(cache->form(), AttentionKind::kGqa);
    EXPECT_EQ(cache->row_dim(), 2 * c.num_key_value_heads * c.gqa_head_dim());
    const std::vector<std::vector<int64_t>> seqs = {
        {3, 9, 27, 81 % 96, 50, 12, 7, 66, 5, 2, 90, 11},
        {4, 8, 15, 16, 23, 42, 1, 2, 3},
        {60, 61, 62, 63, 64, 65, 66, 67, 68, 69}};
    const std::vector<int> prompt_len = {5, 2, 7};
    std::vector<at::Tensor> want;
    for (const auto& s : seqs) {
      want.push_back(model->forward(at::tensor(s, at::kLong).unsqueeze(0)).logits[0]);
    }
    double worst = 0;
    std::vector<int> slot(seqs.size());
    // Sequences 0 and 1 start together (padded prefill); sequence 2 joins after 2 steps.
    for (int i : {0, 1}) slot[i] = *cache->alloc();
    at::Tensor ids = at::zeros({2, 5}, at::kLong), mask = at::zeros({2, 5}, at::kLong);
    for (int i : {0, 1}) {
      for (int t = 0; t < prompt_len[i]; ++t) {
        ids[i][t] = seqs[i][t];
        mask[i][t] = 1;
      }
    }
    at::Tensor first = model->prefill(*cache, ids, mask, {slot[0], slot[1]});  // [2, V]
    for (int i : {0, 1}) worst = std::max(worst, max_abs_diff(first[i], want[i][prompt_len[i] - 1]));
    std::vector<int> pos = {prompt_len[0], prompt_len[1], 0};
    for (int step = 0; step < 8; ++step) {
      if (step == 2) {
        slot[2] = *cache->alloc();
        at::Tensor p = at::tensor(std::vector<int64_t>(seqs[2].begin(), seqs[2].begin() + 7), at::kLong);
        at::Tensor l = model->prefill(*cache, p.unsqueeze(0), at::ones({1, 7}, at::kLong), {slot[2]});
        worst = std::max(worst, max_abs_diff(l[0], want[2][6]));
        pos[2] = 7;
      }
      std::vector<int> active;
      for (int i = 0; i < 3; ++i) {
        if (pos[i] > 0 && pos[i] < static_cast<int>(seqs[i].size())) active.push_back(i);
      }
      if (active.empty()) break;
      std::vector<int64_t> tokens;
      std::vector<int> slots;
      for (int i : active) {
        tokens.push_back(seqs[i][pos[i]]);
        slots.push_back(slot[i]);
      }
      at::Tensor logits = model->decode_step(*cache, at::tensor(tokens, at::kLong), slots);
      for (size_t k = 0; k < active.size(); ++k) {
        const int i = active[k];
        worst = std::max(worst, max_abs_diff(logits[static_cast<int64_t>(k)], want[i][pos[i]]));
        if (++pos[i] == static_cast<int>(seqs[i].size())) cache->free(slot[i]);
      }
    }
    EXPECT_LT(worst, 1e-4);  // fp32, logits of magnitude ~1-10
  }
}

TEST(Gqa, GenerationWithAndWithoutTheCacheAgrees) {
  Model model(testing::small_qwen3_moe(), 5);
  model->eval();
  GenerateOptions o;
  o.max_new_tokens = 12;
  o.sampling.temperature = 0.0;
  auto cached = generate(*model, {{0, 5, 6, 7}, {0, 9}}, o);
  o.use_cache = false;
  auto full = generate(*model, {{0, 5, 6, 7}, {0, 9}}, o);
  ASSERT_TRUE(cached.ok() && full.ok());
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ((*cached)[i].tokens, (*full)[i].tokens);
}

TEST(Gqa, Bfloat16ParametersKeepFp32RoutingBiasesAndFp32Logits) {
  ModelConfig c = testing::micro_config();  // noaux_tc: has routing biases
  auto model = create_model(c, 1, true, at::kBFloat16);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->dtype(), at::kBFloat16);
  for (const auto& [name, t] : (*model)->named_tensors()) {
    const bool bias = name.find("e_score_correction_bias") != std::string::npos;
    EXPECT_EQ(t.scalar_type(), bias ? at::kFloat : at::kBFloat16) << name;
  }
  Model fp32(c, 1);
  at::Tensor ids = at::arange(12, at::kLong).unsqueeze(0);
  at::Tensor a = (*model)->forward(ids).logits, b = fp32->forward(ids).logits;
  EXPECT_EQ(a.scalar_type(), at::kFloat);
  const double scale = b.abs().max().item<double>();
  EXPECT_LT(max_abs_diff(a, b), 5e-2 * scale);
  EXPECT_GT(max_abs_diff(a, b), 0.0);
}

}  // namespace
}  // namespace forge::policy
