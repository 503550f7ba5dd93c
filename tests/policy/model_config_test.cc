// ModelConfig: Hugging Face keys parse, validate() names the offending key, overrides and to_json.
#include "policy/model_config.h"

#include <gtest/gtest.h>

#include "policy/model_stats.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::micro_config;
using testing::tiny_config;

TEST(ModelConfig, TinyConfigHasEveryMechanismLive) {
  ModelConfig c = tiny_config();
  ASSERT_TRUE(c.validate().ok()) << c.validate();
  EXPECT_EQ(c.num_hidden_layers, 4);
  EXPECT_EQ(c.first_k_dense_replace, 1);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_TRUE(c.is_moe_layer(1));
  EXPECT_EQ(c.n_routed_experts, 8);
  EXPECT_EQ(c.num_experts_per_tok, 2);
  EXPECT_EQ(c.n_shared_experts, 1);
  EXPECT_EQ(c.n_group, 2);
  EXPECT_EQ(c.topk_group, 1);
  ASSERT_TRUE(c.q_lora_rank.has_value());
  EXPECT_EQ(*c.q_lora_rank, 64);
  EXPECT_EQ(c.kv_lora_rank, 32);
  EXPECT_EQ(c.scoring_func, "sigmoid");
  EXPECT_EQ(c.topk_method, "noaux_tc");
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "yarn");
  EXPECT_GT(c.rope_scaling->factor, 1.0);
  EXPECT_EQ(c.bos_token_id, 256);
  EXPECT_EQ(c.eos_token_id, 257);
}

TEST(ModelConfig, ValidateNamesTheBadKey) {
  struct Case {
    const char* key;
    void (*mutate)(ModelConfig&);
  };
  const Case cases[] = {
      {"n_group", [](ModelConfig& c) { c.n_group = 3; }},
      {"topk_group", [](ModelConfig& c) { c.topk_group = 5; }},
      {"qk_rope_head_dim", [](ModelConfig& c) { c.qk_rope_head_dim = 7; }},
      {"scoring_func", [](ModelConfig& c) { c.scoring_func = "relu"; }},
      {"num_experts_per_tok", [](ModelConfig& c) { c.num_experts_per_tok = 9; }},
      {"kv_lora_rank", [](ModelConfig& c) { c.kv_lora_rank = 0; }},
      {"eos_token_id", [](ModelConfig& c) { c.eos_token_id = c.vocab_size; }},
      {"attention_bias", [](ModelConfig& c) { c.attention_bias = true; }},
      {"rope_scaling", [](ModelConfig& c) { c.rope_scaling->factor = 0.5; }},
  };
  for (const Case& k : cases) {
    ModelConfig c = micro_config();
    k.mutate(c);
    absl::Status st = c.validate();
    EXPECT_FALSE(st.ok()) << k.key;
    EXPECT_NE(st.message().find(k.key), std::string::npos) << k.key << ": " << st;
  }
}

TEST(ModelConfig, OverridesApplyAndUnknownKeysAreNamed) {
  ModelConfig c = tiny_config();
  ASSERT_TRUE(c.apply_overrides({{"num_hidden_layers", 2}, {"q_lora_rank", nullptr}}).ok());
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_FALSE(c.q_lora_rank.has_value());
  absl::Status st = c.apply_overrides({{"hidden_sise", 3}});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("hidden_sise"), std::string::npos) << st;
  st = c.apply_overrides({{"hidden_size", "wide"}});
  EXPECT_NE(st.message().find("hidden_size"), std::string::npos) << st;
}

TEST(ModelConfig, ToJsonRoundTrips) {
  ModelConfig a = micro_config();
  auto b = ModelConfig::from_json(a.to_json());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->to_json(), a.to_json());
  EXPECT_EQ(a.to_json()["architectures"][0], "DeepseekV3ForCausalLM");
}

}  // namespace
}  // namespace forge::policy

namespace forge::policy {
namespace {

// The released models' config.json files in configs/models/: each resolves to its family, parses
// the family's own keys, validates, and has the parameter counts its model card publishes (total
// within 1%, activated per token within 3%; DeepSeek's cards count activated parameters without
// the input embedding table, Qwen's with it).
TEST(PublishedConfigs, EachResolvesItsFamilyAndPublishedSize) {
  struct Case {
    const char* file;
    Family family;
    double total_b, active_b;  // billions, from the model cards
    bool active_without_embedding;
  };
  const Case cases[] = {
      {"deepseek-v3.json", Family::kDeepseekV3, 671, 37, true},
      {"deepseek-v2.json", Family::kDeepseekV2, 236, 21, true},
      {"deepseek-v2-lite.json", Family::kDeepseekV2, 15.7, 2.4, true},
      {"deepseek-r1-distill-qwen-1.5b.json", Family::kQwen2, 1.78, 1.78, false},
      {"deepseek-r1-distill-llama-8b.json", Family::kLlama, 8.03, 8.03, false},
      {"qwen3-0.6b.json", Family::kQwen3, 0.596, 0.596, false},
      {"qwen3-30b-a3b.json", Family::kQwen3Moe, 30.5, 3.3, false},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.file);
    ModelConfig c = testing::published_config(k.file);
    EXPECT_EQ(c.family, k.family);
    const ModelStats s = model_stats(c);
    const double embedding = k.active_without_embedding ? double{c.vocab_size} * c.hidden_size : 0;
    EXPECT_NEAR(s.total_params / 1e9, k.total_b, 0.01 * k.total_b);
    EXPECT_NEAR((s.active_params - embedding) / 1e9, k.active_b, 0.03 * k.active_b);
    auto again = ModelConfig::from_json(c.to_json());
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->to_json(), c.to_json());
    EXPECT_EQ(c.to_json()["model_type"], c.traits().model_type);
  }
}

TEST(PublishedConfigs, FamilyKeysAreReadWithTheirOwnNames) {
  ModelConfig v3 = testing::published_config("deepseek-v3.json");
  ASSERT_TRUE(v3.quantization.has_value());
  EXPECT_EQ(v3.quantization->block_rows, 128);
  EXPECT_EQ(v3.num_nextn_predict_layers, 1);
  EXPECT_EQ(v3.kv_cache_row_dim(), 512 + 64);
  EXPECT_FALSE(v3.is_moe_layer(2));
  EXPECT_TRUE(v3.is_moe_layer(3));

  ModelConfig moe = testing::published_config("qwen3-30b-a3b.json");
  EXPECT_EQ(moe.n_routed_experts, 128);  // "num_experts"
  EXPECT_TRUE(moe.norm_topk_prob);
  EXPECT_EQ(moe.gqa_head_dim(), 128);    // head_dim, not hidden_size / heads = 64
  EXPECT_EQ(moe.kv_cache_row_dim(), 2 * 4 * 128);
  EXPECT_TRUE(moe.is_moe_layer(0));
  EXPECT_EQ(moe.to_json()["num_experts"], 128);
  EXPECT_FALSE(moe.to_json().contains("n_routed_experts"));
  ASSERT_TRUE(moe.apply_overrides({{"mlp_only_layers", {0, 2}}, {"decoder_sparse_step", 2}}).ok());
  EXPECT_FALSE(moe.is_moe_layer(0));  // listed
  EXPECT_TRUE(moe.is_moe_layer(1));   // (1 + 1) % 2 == 0
  EXPECT_FALSE(moe.is_moe_layer(2));  // listed
  EXPECT_FALSE(moe.is_moe_layer(4));  // (4 + 1) % 2 != 0

  ModelConfig llama = testing::published_config("deepseek-r1-distill-llama-8b.json");
  ASSERT_TRUE(llama.rope_scaling.has_value());
  EXPECT_EQ(llama.rope_scaling->type, "llama3");
  EXPECT_EQ(llama.rope_scaling->factor, 8.0);
  EXPECT_EQ(llama.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(llama.rms_norm_eps, 1e-5);

  ModelConfig qwen3 = testing::published_config("qwen3-0.6b.json");
  EXPECT_TRUE(qwen3.tie_word_embeddings);
  EXPECT_TRUE(qwen3.traits().qk_norm);
  EXPECT_TRUE(testing::published_config("deepseek-r1-distill-qwen-1.5b.json").traits().qkv_bias);
  EXPECT_FALSE(testing::published_config("deepseek-v2-lite.json").q_lora_rank.has_value());
}

TEST(PublishedConfigs, MissingKeysTakeTheFamilyClassDefaults) {
  auto llama = ModelConfig::from_json({{"model_type", "llama"}, {"eos_token_id", {128001, 128009}}});
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_EQ(llama->vocab_size, 32000);
  EXPECT_EQ(llama->num_key_value_heads, 32);  // defaults to the heads
  EXPECT_EQ(llama->eos_token_id, 128001);     // a list: its first id
  auto moe = ModelConfig::from_json({{"model_type", "qwen3_moe"}});
  ASSERT_TRUE(moe.ok());
  EXPECT_EQ(moe->n_routed_experts, 128);
  EXPECT_EQ(moe->num_key_value_heads, 4);
  EXPECT_FALSE(moe->norm_topk_prob);

  auto unknown = ModelConfig::from_json({{"model_type", "gpt2"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("qwen3_moe"), std::string::npos) << unknown.status();
  ModelConfig c = testing::tiny_config();
  absl::Status st = c.apply_overrides({{"model_type", "qwen2"}});
  EXPECT_NE(st.message().find("model_type"), std::string::npos) << st;

  ModelConfig q = testing::published_config("qwen3-0.6b.json");
  q.use_sliding_window = true;
  EXPECT_NE(q.validate().message().find("use_sliding_window"), std::string::npos);
  q.use_sliding_window = false;
  q.num_key_value_heads = 3;
  EXPECT_NE(q.validate().message().find("num_key_value_heads"), std::string::npos);
}

}  // namespace
}  // namespace forge::policy
