// End to end from released model families: `forge run` trains 3 GRPO steps from a shrunk
// qwen3_moe checkpoint with the real Qwen3 tokenizer.json and its chat template, and from a shrunk
// deepseek_v3 one with DeepSeek's (the published config.json of each, shrunk through overrides,
// random weights saved in the family's layout), with bf16 parameters for Qwen3-MoE. The run's
// checkpoints are in the family's own layout again, load back, and moved.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/checkpoint.h"
#include "tests/common/forge_command.h"
#include "tests/common/temp_dir.h"
#include "tests/policy/tokenizer_files.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FamilyRun {
  const char* config;     // configs/models/<config>
  const char* overrides;  // shrinking it
  const char* tokenizer;  // tokenizer folder under FORGE_TOKENIZER_DIR
  const char* chat;       // data.template
  const char* dtype;      // model.dtype
  const char* architecture;
};

void train_three_steps(const FamilyRun& f) {
  ASSERT_NE(policy::testing::real_tokenizer(f.tokenizer), nullptr);
  test_support::TempDir tmp("forge_family_run");
  auto config = policy::ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) + "/configs/models/" +
                                               f.config);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->apply_overrides(json::parse(f.overrides)).ok());
  auto model = policy::create_model(*config, 11);
  ASSERT_TRUE(model.ok()) << model.status();
  const fs::path start = tmp.path() / "start";
  ASSERT_TRUE(policy::save_checkpoint(**model, start.string()).ok());

  const fs::path run = tmp.path() / "run";
  std::ofstream(tmp.path() / "run.yaml")
      << "run: {seed: 1, threads: 1, dir: " << run.string() << "}\n"
      << "model: {checkpoint: " << start.string() << ", dtype: " << f.dtype << "}\n"
      << "tokenizer: {kind: hf, path: " << policy::testing::tokenizer_folder(f.tokenizer) << "}\n"
      << "data: {template: " << f.chat << ", generate: {task: arithmetic, n: 32, ops: 1}}\n"
      << "rollout: {workers: 1, n: 4, max_new_tokens: 12}\n"
      << "trainer: {total_steps: 3, batch_size: 2, micro_batch_size: 4, lr: 1.0e-3, save_every: 3,"
      << " dynamic_sampling: false, entropy_coef: 0.01}\n";
  test_support::ForgeResult r = test_support::run_forge("run " + (tmp.path() / "run.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("model " + start.string() + ": loaded"), std::string::npos) << r.output;

  const std::vector<json> steps = test_support::read_jsonl(run / "metrics.jsonl");
  ASSERT_EQ(steps.size(), 3u) << r.output;
  for (const json& s : steps) {
    EXPECT_TRUE(std::isfinite(s["loss"].get<double>()));
    EXPECT_GT(s["grad_norm"].get<double>(), 0.0);  // the entropy term alone moves the policy
    EXPECT_GT(s["response_length/mean"].get<double>(), 0.0);
  }
  const fs::path saved = run / "checkpoints" / "step-3";
  json cfg;
  std::ifstream(saved / "config.json") >> cfg;
  EXPECT_EQ(cfg["architectures"][0], f.architecture);
  EXPECT_EQ(cfg["torch_dtype"], f.dtype);
  auto before = policy::load_checkpoint(start.string());
  auto after = policy::load_checkpoint(saved.string());
  ASSERT_TRUE(before.ok() && after.ok()) << after.status();
  auto a = (*before)->named_tensors(), b = (*after)->named_tensors();
  ASSERT_EQ(a.size(), b.size());
  double moved = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    moved = std::max(moved, (a[i].second - b[i].second).abs().max().item<double>());
  }
  EXPECT_GT(moved, 1e-4);
}

TEST(FamilyRun, Qwen3MoeCheckpointTrainsThreeStepsInBf16WithTheQwen3Tokenizer) {
  train_three_steps({"qwen3-30b-a3b.json",
                     R"({"num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 96,
                         "moe_intermediate_size": 32, "num_attention_heads": 4,
                         "num_key_value_heads": 2, "head_dim": 16, "num_experts": 4,
                         "num_experts_per_tok": 2, "max_position_embeddings": 1024})",
                     "qwen3", "qwen3", "bfloat16", "Qwen3MoeForCausalLM"});
}

TEST(FamilyRun, DeepseekV3CheckpointTrainsThreeStepsWithTheDeepSeekTokenizer) {
  train_three_steps({"deepseek-v3.json",
                     R"({"num_hidden_layers": 2, "first_k_dense_replace": 1, "hidden_size": 64,
                         "intermediate_size": 96, "moe_intermediate_size": 32,
                         "num_attention_heads": 2, "num_key_value_heads": 2, "q_lora_rank": 32,
                         "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 16,
                         "v_head_dim": 16, "n_routed_experts": 8, "n_group": 4, "topk_group": 2,
                         "num_experts_per_tok": 2, "max_position_embeddings": 1024})",
                     "deepseek_v3", "deepseek-r1", "float32", "DeepseekV3ForCausalLM"});
}

}  // namespace
}  // namespace forge::rl
