// Asynchronous RL at the engine: every token carries the version of the weights that sampled it;
// partial rollouts move running sequences to weights published mid-generation (kRecompute: their
// later tokens are exactly what the new weights give over the whole sequence; kKeep: they are not,
// by the old cache's share); recorded routing is what a full forward of the same weights routes;
// and the new fields survive the wire.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <memory>
#include <thread>

#include <ATen/ATen.h>

#include "policy/log_probs.h"
#include "rollout/engine.h"
#include "rollout/proto_convert.h"
#include "test_util.h"

namespace forge::rollout {
namespace {

using testing::kSeedA;
using testing::kSeedB;

GenerationRequest request_of(PartialRollout partial, bool routing) {
  GenerationRequest r;
  r.prompts = testing::test_prompts(3);
  r.sampling.n = 4;
  r.sampling.max_new_tokens = 40;
  r.sampling.seed = 9;
  r.partial = partial;
  r.return_routing = routing;
  return r;
}

void install(Engine& engine, policy::ModelImpl& from, int64_t version) {
  auto spare = engine.weights().acquire_spare();
  ASSERT_TRUE(spare.ok()) << spare.status();
  {
    at::NoGradGuard no_grad;
    auto dst = (*spare)->model->named_tensors();
    auto src = from.named_tensors();
    for (size_t i = 0; i < dst.size(); ++i) dst[i].second.copy_(src[i].second);
  }
  engine.weights().publish(*spare, version);
}

// Generates `request` on weights A and publishes B as version 1 once every sequence has sampled
// a token: the engine thread is held in the completion callback of a one-token request that joins
// with them, so the update lands while they run.
std::vector<Completion> generate_across_an_update(const GenerationRequest& request,
                                                  policy::ModelImpl& b,
                                                  std::unique_ptr<Engine> engine = nullptr) {
  if (!engine) engine = testing::test_engine(kSeedA);
  std::promise<void> held, released;
  std::shared_future<void> release = released.get_future().share();
  std::promise<absl::StatusOr<std::vector<Completion>>> result;
  std::thread runner([&] { result.set_value(engine->generate(request)); });
  while (engine->stats().tokens_generated <
         static_cast<int64_t>(request.prompts.size()) * request.sampling.n) {
    std::this_thread::yield();
  }
  GenerationRequest pacer;
  pacer.prompts = {request.prompts[0]};
  pacer.sampling.max_new_tokens = 1;
  Engine::Callbacks callbacks;
  callbacks.on_completion = [&](Completion&&) {
    held.set_value();
    release.wait();
  };
  std::promise<void> pacer_done;
  callbacks.on_done = [&](const absl::Status&) { pacer_done.set_value(); };
  EXPECT_TRUE(engine->submit(pacer, callbacks).ok());
  held.get_future().wait();
  install(*engine, b, 1);
  released.set_value();
  pacer_done.get_future().wait();
  runner.join();
  absl::StatusOr<std::vector<Completion>> out = result.get_future().get();
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<Completion>();
}

// log p(token | everything before it) under `model`, for every generated token: one full forward.
std::vector<float> full_forward_log_probs(policy::ModelImpl& model, const Completion& c,
                                          double temperature) {
  std::vector<int64_t> ids(c.prompt_token_ids.begin(), c.prompt_token_ids.end());
  ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end());
  at::NoGradGuard no_grad;
  const int64_t p = static_cast<int64_t>(c.prompt_token_ids.size());
  const int64_t r = static_cast<int64_t>(c.token_ids.size());
  at::Tensor logits = model.forward(at::tensor(ids, at::kLong).unsqueeze(0)).logits[0];  // [T, V]
  at::Tensor lp = policy::token_log_probs(
      policy::temperature_scaled(logits.narrow(0, p - 1, r), temperature),
      at::tensor(std::vector<int64_t>(c.token_ids.begin(), c.token_ids.end()), at::kLong));  // [R]
  return std::vector<float>(lp.data_ptr<float>(), lp.data_ptr<float>() + r);
}

// Index of the first token of version 1; tokens.size() if none.
size_t switch_point(const Completion& c) {
  size_t j = 0;
  while (j < c.token_versions.size() && c.token_versions[j] == 0) ++j;
  return j;
}

// Max |engine - full forward| log-prob over the tokens after the switch, over the mixed
// completions; how many were mixed.
std::pair<double, int> after_switch_mismatch(const std::vector<Completion>& out,
                                             policy::ModelImpl& b) {
  double worst = 0;
  int mixed = 0;
  for (const Completion& c : out) {
    const size_t j = switch_point(c);
    if (j == 0 || j == c.token_ids.size()) continue;
    ++mixed;
    const std::vector<float> want = full_forward_log_probs(b, c, 1.0);
    for (size_t t = j; t < want.size(); ++t) {
      worst = std::max(worst, static_cast<double>(std::abs(c.logprobs[t] - want[t])));
    }
  }
  return {worst, mixed};
}

// The shrunk Qwen3-MoE of test_util.h (GQA: its cache rows are keys and values).
policy::Model shrunk_qwen3_moe(uint64_t seed) {
  policy::Model model = policy::create_model(testing::shrunk_qwen3_moe_config(), seed).value();
  model->eval();
  return model;
}

TEST(PartialRolloutTest, PinnedRequestsCarryOneVersionPerToken) {
  auto engine = testing::test_engine(kSeedA);
  auto out = engine->generate(request_of(PartialRollout::kOff, false));
  ASSERT_TRUE(out.ok()) << out.status();
  for (const Completion& c : *out) {
    ASSERT_EQ(c.token_versions.size(), c.token_ids.size());
    for (int64_t v : c.token_versions) EXPECT_EQ(v, 0);
    EXPECT_TRUE(c.routed_experts.empty());
  }
}

TEST(PartialRolloutTest, RecomputedCacheContinuesExactlyAsTheNewWeights) {
  policy::Model b = testing::test_model(kSeedB);
  const std::vector<Completion> out =
      generate_across_an_update(request_of(PartialRollout::kRecompute, false), *b);
  ASSERT_EQ(out.size(), 12u);
  for (const Completion& c : out) {
    ASSERT_EQ(c.token_versions.size(), c.token_ids.size());
    EXPECT_EQ(c.token_versions.front(), 0);  // every sequence had started on A
    EXPECT_EQ(c.policy_version, 0);          // the first token's
    for (size_t t = 1; t < c.token_versions.size(); ++t) {
      EXPECT_LE(c.token_versions[t - 1], c.token_versions[t]);
    }
  }
  const auto [mismatch, mixed] = after_switch_mismatch(out, *b);
  EXPECT_GT(mixed, 0);
  // The tokens after the switch are B's over the whole sequence, up to float rounding.
  EXPECT_LT(mismatch, 1e-4) << mixed << " mixed completions";
}

TEST(PartialRolloutTest, KeptCacheContinuesOnTheNewWeightsOverTheOldLatents) {
  policy::Model b = testing::test_model(kSeedB);
  const std::vector<Completion> out =
      generate_across_an_update(request_of(PartialRollout::kKeep, false), *b);
  const auto [mismatch, mixed] = after_switch_mismatch(out, *b);
  EXPECT_GT(mixed, 0);
  // B attends over latents A wrote: its log-probs are not a full forward's of B.
  EXPECT_GT(mismatch, 1e-2) << mixed << " mixed completions";
}

TEST(PartialRolloutTest, RecordedRoutingIsWhatAFullForwardRoutes) {
  auto engine = testing::test_engine(kSeedA);
  policy::Model a = testing::test_model(kSeedA);
  auto out = engine->generate(request_of(PartialRollout::kOff, true));
  ASSERT_TRUE(out.ok()) << out.status();
  const policy::ModelConfig& config = a->config();
  int moe_layers = 0;
  for (int l = 0; l < config.num_hidden_layers; ++l) moe_layers += config.is_moe_layer(l);
  ASSERT_GT(moe_layers, 0);
  const int k = config.num_experts_per_tok;
  double same = 0, total = 0;
  for (const Completion& c : *out) {
    ASSERT_EQ(c.routing_layers, moe_layers);
    ASSERT_EQ(c.routing_top_k, k);
    const int64_t positions =
        static_cast<int64_t>(c.prompt_token_ids.size() + c.token_ids.size()) - 1;
    ASSERT_EQ(static_cast<int64_t>(c.routed_experts.size()), positions * moe_layers * k);
    std::vector<int64_t> ids(c.prompt_token_ids.begin(), c.prompt_token_ids.end());
    ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end() - 1);
    at::NoGradGuard no_grad;
    a->forward(at::tensor(ids, at::kLong).unsqueeze(0));
    const std::vector<at::Tensor> chosen = a->last_routing();  // [positions, K] per layer
    for (int l = 0; l < moe_layers; ++l) {
      at::Tensor want = std::get<0>(chosen[l].sort(1));
      for (int64_t p = 0; p < positions; ++p) {
        std::vector<int64_t> got;
        for (int j = 0; j < k; ++j) got.push_back(c.routed_experts[(p * moe_layers + l) * k + j]);
        std::sort(got.begin(), got.end());
        bool eq = true;
        for (int j = 0; j < k; ++j) eq &= got[j] == want[p][j].item<int64_t>();
        same += eq;
        total += 1;
      }
    }
  }
  // The engine decodes with absorbed MLA, the forward is naive: a near-tie may flip, rarely.
  EXPECT_GE(same / total, 0.99) << same << " of " << total;
}

TEST(PartialRolloutTest, RecomputeRewritesTheRoutingWithTheNewWeights) {
  policy::Model b = testing::test_model(kSeedB);
  const std::vector<Completion> out =
      generate_across_an_update(request_of(PartialRollout::kRecompute, true), *b);
  int checked = 0;
  for (const Completion& c : out) {
    const size_t j = switch_point(c);
    if (j == 0 || j + 1 >= c.token_ids.size()) continue;
    // B's forward over prompt + tokens but the last routes as recorded (positions before the
    // switch were rewritten by B's prefill).
    std::vector<int64_t> ids(c.prompt_token_ids.begin(), c.prompt_token_ids.end());
    ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end() - 1);
    at::NoGradGuard no_grad;
    b->forward(at::tensor(ids, at::kLong).unsqueeze(0));
    const std::vector<at::Tensor> chosen = b->last_routing();
    const int64_t layers = c.routing_layers, k = c.routing_top_k;
    int64_t same = 0;
    for (int64_t p = 0; p < static_cast<int64_t>(ids.size()); ++p) {
      for (int64_t l = 0; l < layers; ++l) {
        std::vector<int64_t> got(c.routed_experts.begin() + (p * layers + l) * k,
                                 c.routed_experts.begin() + (p * layers + l + 1) * k);
        std::sort(got.begin(), got.end());
        at::Tensor want = std::get<0>(chosen[l][p].sort(0));
        same += got == std::vector<int64_t>(want.data_ptr<int64_t>(), want.data_ptr<int64_t>() + k);
      }
    }
    EXPECT_GE(double(same) / double(ids.size() * layers), 0.99);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// The same for a GQA family: kRecompute rewrites the keys and values of the running sequences, so
// their tokens after the switch are B's over the whole sequence, and the routing they carry is
// what B's full forward routes.
TEST(PartialRolloutTest, AGqaMoeModelRecomputesItsKeysAndValuesAndRecordsItsRouting) {
  policy::Model b = shrunk_qwen3_moe(kSeedB);
  auto engine = Engine::create(shrunk_qwen3_moe(kSeedA), testing::byte_tokenizer(), {});
  ASSERT_TRUE(engine.ok()) << engine.status();
  const std::vector<Completion> out = generate_across_an_update(
      request_of(PartialRollout::kRecompute, true), *b, std::move(engine).value());
  ASSERT_EQ(out.size(), 12u);
  const auto [mismatch, mixed] = after_switch_mismatch(out, *b);
  EXPECT_GT(mixed, 0);
  EXPECT_LT(mismatch, 1e-4) << mixed << " mixed completions";
  int64_t same = 0, total = 0;
  for (const Completion& c : out) {
    const size_t j = switch_point(c);
    if (j == 0 || j + 1 >= c.token_ids.size()) continue;
    ASSERT_EQ(c.routing_layers, 1);  // layer 1 is dense (mlp_only_layers)
    ASSERT_EQ(c.routing_top_k, 2);
    std::vector<int64_t> ids(c.prompt_token_ids.begin(), c.prompt_token_ids.end());
    ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end() - 1);
    ASSERT_EQ(c.routed_experts.size(), ids.size() * 2);
    at::NoGradGuard no_grad;
    b->forward(at::tensor(ids, at::kLong).unsqueeze(0));
    const at::Tensor chosen = std::get<0>(b->last_routing().at(0).sort(1));  // [positions, 2]
    for (int64_t p = 0; p < static_cast<int64_t>(ids.size()); ++p) {
      std::vector<int64_t> got(c.routed_experts.begin() + p * 2, c.routed_experts.begin() + p * 2 + 2);
      std::sort(got.begin(), got.end());
      same += got[0] == chosen[p][0].item<int64_t>() && got[1] == chosen[p][1].item<int64_t>();
      ++total;
    }
  }
  ASSERT_GT(total, 0);
  EXPECT_GE(static_cast<double>(same) / static_cast<double>(total), 0.99) << same << " of " << total;
}

TEST(PartialRolloutTest, VersionsRoutingAndTheModeSurviveTheWire) {
  Completion c;
  c.token_ids = {5, 6, 7};
  c.token_versions = {3, 3, 4};
  c.routed_experts = {1, 2, 0, 3};
  c.routing_layers = 1;
  c.routing_top_k = 2;
  forge::v1::Completion proto;
  completion_to_proto(c, &proto);
  const Completion back = completion_from_proto(proto);
  EXPECT_EQ(back.token_versions, c.token_versions);
  EXPECT_EQ(back.routed_experts, c.routed_experts);
  EXPECT_EQ(back.routing_layers, 1);
  EXPECT_EQ(back.routing_top_k, 2);

  for (PartialRollout mode :
       {PartialRollout::kOff, PartialRollout::kRecompute, PartialRollout::kKeep}) {
    GenerationRequest r = request_of(mode, mode == PartialRollout::kKeep);
    forge::v1::GenerateRequest wire;
    request_to_proto(r, &wire);
    auto parsed = request_from_proto(wire, *testing::byte_tokenizer());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->partial, mode);
    EXPECT_EQ(parsed->return_routing, mode == PartialRollout::kKeep);
  }
}

}  // namespace
}  // namespace forge::rollout
