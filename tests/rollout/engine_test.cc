// The generation engine against an independent reference (policy::generate over each prompt alone,
// with the sample's seed): continuous batching, shared prefills, stops, limits, cancellation and
// pinned weight versions must not change a single token.
#include "rollout/engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "policy/byte_tokenizer.h"
#include "base/utf8.h"
#include "test_util.h"

namespace forge::rollout {
namespace {

using testing::kSeedA;
using testing::kSeedB;

GenerationRequest sample_request(int prompts, int n, int max_new_tokens, uint64_t seed) {
  GenerationRequest r;
  r.prompts = testing::test_prompts(prompts);
  r.sampling.n = n;
  r.sampling.max_new_tokens = max_new_tokens;
  r.sampling.seed = seed;
  return r;
}

TEST(EngineTest, EveryCompletionMatchesTheReferenceGeneration) {
  auto engine = testing::test_engine(kSeedA);
  policy::Model model = testing::test_model(kSeedA);
  GenerationRequest request = sample_request(3, 3, 10, 5);
  request.sampling.temperature = 0.8;
  request.sampling.top_k = 40;
  request.sampling.top_p = 0.9;
  request.first_prompt_index = 4;
  absl::StatusOr<std::vector<Completion>> out = engine->generate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 9u);
  for (size_t j = 0; j < out->size(); ++j) {
    const Completion& c = (*out)[j];
    EXPECT_EQ(c.prompt_index, 4 + static_cast<int>(j) / 3);
    EXPECT_EQ(c.sample_index, static_cast<int>(j) % 3);
    EXPECT_EQ(c.policy_version, 0);
    testing::expect_matches_reference(c, *model, request);
  }
  // The n samples of a prompt are different draws (distinct seeds), not copies.
  EXPECT_NE((*out)[0].token_ids, (*out)[1].token_ids);
}

TEST(EngineTest, GreedyMatchesTheReference) {
  auto engine = testing::test_engine(kSeedA);
  policy::Model model = testing::test_model(kSeedA);
  GenerationRequest request = sample_request(2, 2, 8, 0);
  request.sampling.temperature = 0;
  absl::StatusOr<std::vector<Completion>> out = engine->generate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  for (const Completion& c : *out) testing::expect_matches_reference(c, *model, request);
  EXPECT_EQ((*out)[0].token_ids, (*out)[1].token_ids);  // greedy: seeds do not matter
}

TEST(EngineTest, BatchingTwoRequestsGivesEachTheSameTokensAsAlone) {
  GenerationRequest a = sample_request(2, 2, 24, 100);
  GenerationRequest b = sample_request(3, 1, 12, 200);
  b.sampling.temperature = 1.3;
  b.prompts = testing::test_prompts(3, 6);

  auto engine = testing::test_engine(kSeedA);
  absl::StatusOr<std::vector<Completion>> a_alone = engine->generate(a);
  absl::StatusOr<std::vector<Completion>> b_alone = engine->generate(b);
  ASSERT_TRUE(a_alone.ok() && b_alone.ok());

  // A starts; B joins while A is decoding (at other lengths), and they share decode steps.
  std::promise<absl::StatusOr<std::vector<Completion>>> a_result;
  std::thread a_thread([&] { a_result.set_value(engine->generate(a)); });
  const int64_t before = engine->stats().tokens_generated;
  while (engine->stats().tokens_generated < before + 8) std::this_thread::yield();
  absl::StatusOr<std::vector<Completion>> b_together = engine->generate(b);
  a_thread.join();
  absl::StatusOr<std::vector<Completion>> a_together = a_result.get_future().get();
  ASSERT_TRUE(a_together.ok() && b_together.ok());

  auto same = [](const std::vector<Completion>& x, const std::vector<Completion>& y) {
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].token_ids, y[i].token_ids) << "completion " << i;
      EXPECT_EQ(x[i].finish_reason, y[i].finish_reason);
      ASSERT_EQ(x[i].logprobs.size(), y[i].logprobs.size());
      for (size_t t = 0; t < x[i].logprobs.size(); ++t) EXPECT_NEAR(x[i].logprobs[t], y[i].logprobs[t], 1e-4);
    }
  };
  same(*a_alone, *a_together);
  same(*b_alone, *b_together);
}

TEST(EngineTest, SamplesDoNotDependOnHowPromptsAreSplit) {
  auto engine = testing::test_engine(kSeedA);
  GenerationRequest whole = sample_request(4, 2, 6, 9);
  GenerationRequest tail = whole;
  tail.prompts.erase(tail.prompts.begin(), tail.prompts.begin() + 2);
  tail.first_prompt_index = 2;
  auto all = engine->generate(whole);
  auto part = engine->generate(tail);
  ASSERT_TRUE(all.ok() && part.ok());
  ASSERT_EQ(part->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*part)[i].prompt_index, (*all)[4 + i].prompt_index);
    EXPECT_EQ((*part)[i].token_ids, (*all)[4 + i].token_ids);
  }
}

TEST(EngineTest, StopsAtMaxNewTokensWithLength) {
  auto engine = testing::test_engine(kSeedA);
  auto out = engine->generate(sample_request(2, 1, 5, 3));
  ASSERT_TRUE(out.ok());
  for (const Completion& c : *out) {
    if (c.finish_reason == "length") EXPECT_EQ(c.token_ids.size(), 5u);
    if (c.finish_reason == "stop") EXPECT_EQ(c.token_ids.back(), testing::test_config().eos_token_id);
    EXPECT_EQ(c.logprobs.size(), c.token_ids.size());
  }
}

TEST(EngineTest, StopsAtEosKeepingTheToken) {
  // Which token is eos is the config's choice: make it a token this seed samples at step 4.
  GenerationRequest request = sample_request(1, 1, 12, 42);
  auto plain = testing::test_engine(kSeedA)->generate(request);
  ASSERT_TRUE(plain.ok());
  ASSERT_GE((*plain)[0].token_ids.size(), 5u);
  const int32_t eos = (*plain)[0].token_ids[4];
  size_t first = 0;
  while ((*plain)[0].token_ids[first] != eos) ++first;

  policy::ModelConfig config = testing::test_config();
  config.eos_token_id = eos;
  auto model = policy::create_model(config, kSeedA);  // same weights: init ignores eos
  ASSERT_TRUE(model.ok());
  auto engine = Engine::create(*model, testing::byte_tokenizer(), {});
  ASSERT_TRUE(engine.ok());
  auto out = (*engine)->generate(request);
  ASSERT_TRUE(out.ok());
  const Completion& c = (*out)[0];
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_EQ(c.token_ids, std::vector<int32_t>((*plain)[0].token_ids.begin(),
                                              (*plain)[0].token_ids.begin() + first + 1));
}

// The cache pool holds whichever rows the model's attention caches: keys and values for the GQA
// families (here a shrunk Qwen3-MoE: q/k norms, 2 key/value heads for 4 query heads, an MoE and a
// dense layer) as latents for MLA. Prompts of different lengths decode side by side, join and leave,
// and each completion is still the reference's.
TEST(EngineTest, GqaModelsDecodeFromKeysAndValuesInThePool) {
  const policy::ModelConfig config = testing::shrunk_qwen3_moe_config();
  auto model = policy::create_model(config, kSeedA);
  auto same = policy::create_model(config, kSeedA);
  ASSERT_TRUE(model.ok() && same.ok());
  (*model)->eval();
  (*same)->eval();
  auto engine = Engine::create(*model, testing::byte_tokenizer(), {});
  ASSERT_TRUE(engine.ok()) << engine.status();
  GenerationRequest request = sample_request(3, 2, 12, 7);
  request.sampling.temperature = 0.9;
  auto out = (*engine)->generate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 6u);
  size_t tokens = 0;
  for (const Completion& c : *out) {
    testing::expect_matches_reference(c, **same, request);
    tokens += c.token_ids.size();
  }
  EXPECT_GT(tokens, 36u);  // most samples decode many steps rather than stopping at once
  EXPECT_NE((*out)[0].token_ids, (*out)[2].token_ids);
}

TEST(EngineTest, StopStringsEndTheSequenceAndAreCutFromTheText) {
  GenerationRequest request = sample_request(1, 1, 16, 77);
  request.sampling.temperature = 1.5;
  auto engine = testing::test_engine(kSeedA);
  auto plain = engine->generate(request);
  ASSERT_TRUE(plain.ok());
  const std::vector<int32_t>& tokens = (*plain)[0].token_ids;
  // A stop string made of two consecutive byte tokens of the plain completion.
  size_t at = 0;
  while (at + 1 < tokens.size() && !(tokens[at] < 256 && tokens[at + 1] < 256)) ++at;
  ASSERT_LT(at + 1, tokens.size()) << "no two consecutive byte tokens";
  const std::string stop = {static_cast<char>(tokens[at]), static_cast<char>(tokens[at + 1])};
  // Where the plain completion's bytes first contain it.
  policy::ByteTokenizer tok;
  std::string text;
  size_t end = 0;  // tokens kept
  size_t cut = std::string::npos;
  for (; end < tokens.size() && cut == std::string::npos; ++end) {
    text += *tok.decode({tokens[end]});
    cut = text.find(stop);
  }
  request.sampling.stop = {"never-appears", stop};
  auto out = engine->generate(request);
  ASSERT_TRUE(out.ok());
  const Completion& c = (*out)[0];
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_EQ(c.token_ids, std::vector<int32_t>(tokens.begin(), tokens.begin() + end));
  EXPECT_EQ(c.text, to_valid_utf8(text.substr(0, cut)));
}

TEST(EngineTest, RejectsBadRequestsNamingTheField) {
  auto engine = testing::test_engine(kSeedA);
  struct Case {
    std::function<void(GenerationRequest&)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](GenerationRequest& r) { r.prompts.clear(); }, "prompts: no prompts"},
      {[](GenerationRequest& r) { r.prompts[1].clear(); }, "prompts[1]: empty prompt"},
      {[](GenerationRequest& r) { r.prompts[2][5] = 999; },
       "prompts[2].token_ids[5]: 999 outside the vocabulary [0, 272)"},
      {[](GenerationRequest& r) { r.prompts[0][0] = -1; }, "prompts[0].token_ids[0]: -1 outside"},
      {[](GenerationRequest& r) { r.sampling.n = -2; }, "sampling.n: must be in [1, 1024]"},
      {[](GenerationRequest& r) { r.sampling.n = 100000; }, "sampling.n: must be in [1, 1024]"},
      {[](GenerationRequest& r) { r.sampling.temperature = -0.5; }, "sampling.temperature"},
      {[](GenerationRequest& r) { r.sampling.top_p = 0; }, "sampling.top_p: must be in (0, 1]"},
      {[](GenerationRequest& r) { r.sampling.top_p = 1.5; }, "sampling.top_p: must be in (0, 1]"},
      {[](GenerationRequest& r) { r.sampling.top_k = -1; }, "sampling.top_k"},
      {[](GenerationRequest& r) { r.sampling.max_new_tokens = 508; },
       "sampling.max_new_tokens: 508 new tokens after the 5 tokens of prompts[1] exceed the "
       "context of 512 tokens"},
      {[](GenerationRequest& r) { r.sampling.stop = {"ok", ""}; }, "sampling.stop[1]: empty"},
      {[](GenerationRequest& r) { r.first_prompt_index = -1; }, "first_prompt_index"},
      {[](GenerationRequest& r) { r.sampling.n = 600; r.prompts.resize(10, {1}); },
       "sequences exceed the worker's limit of 4096 per request"},
  };
  for (const Case& c : cases) {
    GenerationRequest r = sample_request(3, 1, 4, 0);
    c.edit(r);
    absl::StatusOr<std::vector<Completion>> out = engine->generate(r);
    ASSERT_FALSE(out.ok()) << c.message;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
    EXPECT_NE(out.status().message().find(c.message), std::string::npos) << out.status();
  }
  // The engine keeps serving.
  EXPECT_TRUE(engine->generate(sample_request(1, 1, 3, 0)).ok());
}

// A long request: eos is unlikely to end all of its sequences early.
GenerationRequest long_request(int n) { return sample_request(1, n, 400, 1); }

TEST(EngineTest, OverloadIsResourceExhaustedAndTheEngineRecovers) {
  EngineOptions options;
  options.max_batch_size = 1;
  options.max_queued = 6;
  auto engine = testing::test_engine(kSeedA, options);
  std::promise<absl::Status> done;
  Engine::Callbacks callbacks;
  callbacks.on_completion = [](Completion&&) {};
  callbacks.on_done = [&](const absl::Status& s) { done.set_value(s); };
  auto handle = engine->submit(long_request(6), callbacks);
  ASSERT_TRUE(handle.ok());
  auto second = engine->submit(sample_request(1, 2, 4, 0), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted) << second.status();
  (*handle)->cancel();
  EXPECT_EQ(done.get_future().get().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(engine->generate(sample_request(1, 2, 4, 0)).ok());
}

TEST(EngineTest, CancellingFreesTheRequestsSlots) {
  EngineOptions options;
  options.max_batch_size = 4;
  auto engine = testing::test_engine(kSeedA, options);
  EXPECT_EQ(engine->stats().cache_slots, 4);
  std::promise<absl::Status> done;
  Engine::Callbacks callbacks;
  callbacks.on_completion = [](Completion&&) {};
  callbacks.on_done = [&](const absl::Status& s) { done.set_value(s); };
  auto handle = engine->submit(long_request(4), callbacks);
  ASSERT_TRUE(handle.ok());
  while (engine->stats().active_sequences < 4) std::this_thread::yield();
  EXPECT_GT(engine->stats().cache_bytes_used, 0);
  (*handle)->cancel();
  EXPECT_EQ(done.get_future().get().code(), absl::StatusCode::kCancelled);
  for (int i = 0; i < 100 && engine->stats().active_sequences > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(engine->stats().active_sequences, 0);
  EXPECT_EQ(engine->stats().cache_bytes_used, 0);
  // All four slots are free again: a request of four runs.
  auto out = engine->generate(sample_request(1, 4, 3, 0));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 4u);
}

TEST(EngineTest, RequestsFinishOnTheWeightsTheyStartedWith) {
  auto engine = testing::test_engine(kSeedA);
  policy::Model model_a = testing::test_model(kSeedA);
  policy::Model model_b = testing::test_model(kSeedB);
  GenerationRequest request = sample_request(2, 2, 20, 8);

  std::promise<absl::StatusOr<std::vector<Completion>>> first;
  std::thread runner([&] { first.set_value(engine->generate(request)); });
  while (engine->stats().tokens_generated < 4) std::this_thread::yield();
  // Install B as version 1 while the first request is decoding.
  auto spare = engine->weights().acquire_spare();
  ASSERT_TRUE(spare.ok()) << spare.status();
  {
    at::NoGradGuard no_grad;
    auto dst = (*spare)->model->named_tensors();
    auto src = model_b->named_tensors();
    for (size_t i = 0; i < dst.size(); ++i) dst[i].second.copy_(src[i].second);
  }
  engine->weights().publish(*spare, 1);
  auto second = engine->generate(request);
  runner.join();
  auto first_out = first.get_future().get();
  ASSERT_TRUE(first_out.ok() && second.ok());
  for (const Completion& c : *first_out) {
    EXPECT_EQ(c.policy_version, 0);
    testing::expect_matches_reference(c, *model_a, request);
  }
  for (const Completion& c : *second) {
    EXPECT_EQ(c.policy_version, 1);
    testing::expect_matches_reference(c, *model_b, request);
  }
  EXPECT_NE((*first_out)[0].token_ids, (*second)[0].token_ids);
}

}  // namespace
}  // namespace forge::rollout
