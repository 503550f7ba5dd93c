// ModelConfig: Hugging Face keys parse, validate() names the offending key, overrides and to_json.
#include "policy/model_config.h"

#include <gtest/gtest.h>

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
