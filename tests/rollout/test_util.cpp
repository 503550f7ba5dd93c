#include "test_util.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "policy/byte_tokenizer.h"

namespace forge::rollout::testing {

policy::ModelConfig test_config() {
  absl::StatusOr<policy::ModelConfig> config =
      policy::ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) + "/configs/models/tiny.json");
  EXPECT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->apply_overrides({{"num_hidden_layers", 2}}).ok());
  return *config;
}

policy::ModelConfig shrunk_qwen3_moe_config() {
  absl::StatusOr<policy::ModelConfig> config = policy::ModelConfig::from_file(
      std::string(FORGE_SOURCE_DIR) + "/configs/models/qwen3-30b-a3b.json");
  EXPECT_TRUE(config.ok()) << config.status();
  const policy::ModelConfig tiny = test_config();
  EXPECT_TRUE(config->apply_overrides({{"num_hidden_layers", 2}, {"hidden_size", 64},
                                       {"intermediate_size", 96}, {"moe_intermediate_size", 32},
                                       {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                                       {"head_dim", 16}, {"num_experts", 4},
                                       {"num_experts_per_tok", 2}, {"mlp_only_layers", {1}},
                                       {"vocab_size", tiny.vocab_size},
                                       {"bos_token_id", tiny.bos_token_id},
                                       {"eos_token_id", tiny.eos_token_id},
                                       {"max_position_embeddings", 256},
                                       {"initializer_range", 0.2}})
                  .ok());
  return *config;
}

policy::Model test_model(uint64_t seed) {
  absl::StatusOr<policy::Model> model = policy::create_model(test_config(), seed);
  EXPECT_TRUE(model.ok()) << model.status();
  (*model)->eval();
  return *model;
}

std::shared_ptr<const policy::Tokenizer> byte_tokenizer() {
  return std::make_shared<policy::ByteTokenizer>();
}

std::unique_ptr<Engine> test_engine(uint64_t seed, const EngineOptions& options) {
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      Engine::create(test_model(seed), byte_tokenizer(), options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return std::move(engine).value();
}

std::vector<std::vector<int32_t>> test_prompts(int count, int first_length) {
  std::vector<std::vector<int32_t>> out;
  for (int p = 0; p < count; ++p) {
    std::vector<int32_t> ids = {policy::ByteTokenizer::kBos};
    for (int j = 1; j < first_length + 2 * p; ++j) ids.push_back(static_cast<int32_t>('a' + (7 * p + 3 * j) % 26));
    out.push_back(ids);
  }
  return out;
}

policy::Generation reference(policy::ModelImpl& model, const std::vector<int32_t>& prompt,
                             const SamplingOptions& s, int64_t prompt_index, int sample_index) {
  policy::GenerateOptions options;
  options.max_new_tokens = s.max_new_tokens;
  options.sampling.temperature = s.temperature;
  options.sampling.top_p = s.top_p;
  options.sampling.top_k = s.top_k;
  options.seed = sample_seed(s.seed, prompt_index, sample_index);  // prompt 0 samples with seed + 0
  options.stop_ids = {model.config().eos_token_id};
  absl::StatusOr<std::vector<policy::Generation>> out = policy::generate(model, {prompt}, options);
  EXPECT_TRUE(out.ok()) << out.status();
  return (*out)[0];
}

void expect_matches_reference(const Completion& c, policy::ModelImpl& model,
                              const GenerationRequest& request) {
  const int64_t k = c.prompt_index - request.first_prompt_index;
  ASSERT_GE(k, 0);
  ASSERT_LT(k, static_cast<int64_t>(request.prompts.size()));
  const policy::Generation ref =
      reference(model, request.prompts[k], request.sampling, c.prompt_index, c.sample_index);
  EXPECT_EQ(c.prompt_token_ids, request.prompts[k]);
  EXPECT_EQ(c.token_ids, ref.tokens) << "prompt " << c.prompt_index << " sample " << c.sample_index;
  EXPECT_EQ(c.finish_reason, ref.finish_reason);
  ASSERT_EQ(c.logprobs.size(), ref.logprobs.size());
  for (size_t t = 0; t < ref.logprobs.size(); ++t) EXPECT_NEAR(c.logprobs[t], ref.logprobs[t], 1e-4);
}

std::string worker_config_yaml(uint64_t seed) {
  return absl::StrCat("run:\n  seed: ", seed, "\n  threads: 1\n",
                      "model:\n  config: ", FORGE_SOURCE_DIR, "/configs/models/tiny.json\n",
                      "  num_hidden_layers: 2\n",
                      "rollout:\n  max_batch_size: 32\n  cache_mb: 16\n  max_new_tokens: 16\n");
}

}  // namespace forge::rollout::testing
