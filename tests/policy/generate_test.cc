// The reference generation loop: the KV-cache path and the recompute path agree, seeded sampling
// repeats, stop tokens end sequences, and a prompt's output does not depend on its batch.
#include "policy/generate.h"

#include <gtest/gtest.h>

#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::tiny_config;

std::vector<std::vector<int32_t>> prompts() {
  return {{256, 'W', 'h', 'a', 't', ' ', 'i', 's', ' ', '2', '+', '2', '?'},
          {256, 'H', 'i'},
          {256, '<', 'a', 'n', 's', 'w', 'e', 'r', '>', '1', '2', '3', '4', '5', '6'}};
}

TEST(Generate, GreedyIsIdenticalWithAndWithoutTheCache) {
  Model model(tiny_config(), 1);
  GenerateOptions options;
  options.max_new_tokens = 24;
  options.sampling.temperature = 0.0;
  auto cached = generate(*model, prompts(), options);
  options.use_cache = false;
  auto recomputed = generate(*model, prompts(), options);
  ASSERT_TRUE(cached.ok()) << cached.status();
  ASSERT_TRUE(recomputed.ok()) << recomputed.status();
  for (size_t i = 0; i < prompts().size(); ++i) {
    EXPECT_EQ((*cached)[i].tokens, (*recomputed)[i].tokens) << i;
    ASSERT_EQ((*cached)[i].logprobs.size(), 24u);
    for (size_t k = 0; k < 24; ++k) {
      EXPECT_NEAR((*cached)[i].logprobs[k], (*recomputed)[i].logprobs[k], 1e-4);
    }
    EXPECT_EQ((*cached)[i].finish_reason, "length");
  }
}

TEST(Generate, SeededSamplingRepeatsAndIgnoresTheBatch) {
  Model model(tiny_config(), 2);
  GenerateOptions options;
  options.max_new_tokens = 16;
  options.sampling = {1.0, 0.95, 50};
  options.seed = 1234;
  auto a = generate(*model, prompts(), options);
  auto b = generate(*model, prompts(), options);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ((*a)[i].tokens, (*b)[i].tokens);
  // Prompt 1 alone, with the seed it had in the batch (seed + index), samples the same tokens.
  options.seed = 1235;
  auto alone = generate(*model, {prompts()[1]}, options);
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ((*alone)[0].tokens, (*a)[1].tokens);
  options.seed = 99;
  auto other = generate(*model, prompts(), options);
  EXPECT_NE((*other)[0].tokens, (*a)[0].tokens);
}

TEST(Generate, StopTokensEndSequences) {
  Model model(tiny_config(), 3);
  GenerateOptions options;
  options.max_new_tokens = 10;
  options.sampling.temperature = 0.0;
  auto free_run = generate(*model, prompts(), options);
  ASSERT_TRUE(free_run.ok());
  // Stop at the token greedy decoding emits third in prompt 0.
  const int32_t stop = (*free_run)[0].tokens[2];
  options.stop_ids = {stop};
  auto stopped = generate(*model, prompts(), options);
  ASSERT_TRUE(stopped.ok());
  const auto& g = (*stopped)[0];
  EXPECT_EQ(g.finish_reason, "stop");
  EXPECT_EQ(g.tokens.back(), stop);
  EXPECT_LE(g.tokens.size(), 3u);
}

TEST(Generate, RejectsPromptsThatCannotFit) {
  Model model(tiny_config(), 1);
  GenerateOptions options;
  options.max_new_tokens = 600;  // beyond max_position_embeddings 512
  auto r = generate(*model, prompts(), options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max_position_embeddings"), std::string::npos);
  options.max_new_tokens = 4;
  EXPECT_FALSE(generate(*model, {{}}, options).ok());
  EXPECT_FALSE(generate(*model, {{5000}}, options).ok());
}

}  // namespace
}  // namespace forge::policy
