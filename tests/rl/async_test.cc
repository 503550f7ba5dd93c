// Asynchronous GRPO in one process (an in-process engine, the in-process grader), read from what a
// run writes (metrics.jsonl, samples.jsonl with every sample) and from its weights:
//  * max_staleness 0 is the synchronous loop: recording routing (or asking for partial rollouts)
//    changes no metric but adds moe/routing_agreement, and no weight;
//  * max_staleness 1: every trained sample's tokens are at most one version older than the weights
//    it trains against, and some are exactly one (generation overlapped training);
//  * partial rollouts: a weight update that lands while a step's sequences run (the test holds the
//    engine until the trainer's next push) gives completions of two versions, which train;
//  * routing replay: agreement 1.0 on every step, and a log-prob mismatch no larger than without;
//  * a checkpoint of an asynchronous run names the rounds in flight, and a trainer restored from it
//    generates them: the steps use exactly the prompts a straight run uses.
// The reward is a test rule that varies with the text (the share of lowercase letters), so the
// groups' advantages and the updates are not zero.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/splitmix64.h"
#include "reward/grader.h"
#include "rl/config/run_config.h"
#include "rl/data/prompt_source.h"
#include "rl/metrics/metrics_log.h"
#include "rl/policy_loader.h"
#include "rl/tasks/generate.h"
#include "rl/trainer/grpo_trainer.h"
#include "rollout/local_generation.h"
#include "tests/common/forge_command.h"
#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class LowercaseRule final : public reward::RewardRule {
 public:
  std::string name() const override { return "lowercase"; }
  std::string description() const override { return "share of lowercase letters"; }
  absl::StatusOr<reward::RuleResult> grade(const reward::GradeItem& item,
                                           std::chrono::steady_clock::time_point) const override {
    const double n = static_cast<double>(item.completion.size());
    const auto lower = std::count_if(item.completion.begin(), item.completion.end(),
                                     [](char c) { return c >= 'a' && c <= 'z'; });
    return reward::RuleResult{n > 0 ? static_cast<double>(lower) / n : 0.0, ""};
  }
};

// Holds a weight update's landing inside a step's generation: requests run one at a time in step
// order, and step s's (s > 1), once all its sequences have a token, holds the engine thread (in the
// completion callback of a one-token request that joins them) until the trainer has pushed version
// s - 1 (the update that follows step s - 1, which no longer waits for this generation).
class HoldingGeneration : public rollout::GenerationBackend {
 public:
  HoldingGeneration(rollout::LocalGeneration& inner, uint64_t run_seed) : inner_(inner) {
    for (int step = 1; step <= 16; ++step) {  // collect_stage.cpp's seed of (step, round 0)
      step_of_seed_[splitmix64_nth(splitmix64_nth(run_seed, step + 1), 1)] = step;
    }
  }

  absl::StatusOr<std::vector<rollout::Completion>> generate(
      const rollout::GenerationRequest& request) override {
    const int step = step_of_seed_.at(request.sampling.seed);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return generated_through_ == step - 1; });
    lock.unlock();
    auto out = step == 1 ? inner_.generate(request) : generate_holding(request, step - 1);
    lock.lock();
    generated_through_ = step;
    cv_.notify_all();
    return out;
  }

  absl::StatusOr<rollout::WeightPublishResult> push_weights(const rollout::NamedTensors& tensors,
                                                            int64_t version) override {
    auto out = inner_.push_weights(tensors, version);
    std::lock_guard<std::mutex> lock(mu_);
    pushed_ = std::max(pushed_, version);
    cv_.notify_all();
    return out;
  }

 private:
  absl::StatusOr<std::vector<rollout::Completion>> generate_holding(
      const rollout::GenerationRequest& request, int64_t until_version) {
    rollout::Engine& engine = inner_.engine();
    const int64_t sequences = static_cast<int64_t>(request.prompts.size()) * request.sampling.n;
    const int64_t tokens_before = engine.stats().tokens_generated;
    std::promise<absl::StatusOr<std::vector<rollout::Completion>>> result;
    std::thread runner([&] { result.set_value(engine.generate(request)); });
    while (engine.stats().tokens_generated < tokens_before + sequences) std::this_thread::yield();
    rollout::GenerationRequest pacer;
    pacer.prompts = {request.prompts[0]};
    pacer.sampling.max_new_tokens = 1;
    std::promise<void> pacer_done;
    rollout::Engine::Callbacks callbacks;
    callbacks.on_completion = [&](rollout::Completion&&) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return pushed_ >= until_version; });
    };
    callbacks.on_done = [&](const absl::Status&) { pacer_done.set_value(); };
    absl::StatusOr<std::shared_ptr<rollout::RequestHandle>> handle =
        engine.submit(pacer, callbacks);
    if (handle.ok()) pacer_done.get_future().wait();
    runner.join();
    if (!handle.ok()) return handle.status();
    return result.get_future().get();
  }

  rollout::LocalGeneration& inner_;
  std::map<uint64_t, int> step_of_seed_;
  std::mutex mu_;
  std::condition_variable cv_;
  int generated_through_ = 0;
  int64_t pushed_ = -1;  // the newest version pushed
};

struct Trained {
  absl::Status status;
  std::vector<json> metrics;  // metrics.jsonl
  std::vector<json> samples;  // samples.jsonl: every sample of every step
  std::vector<std::pair<std::string, at::Tensor>> weights;
  std::string run_dir;
};

class AsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tasks::GenerateOptions gen;
    gen.n = 40;
    examples_ = tasks::generate_examples(gen, {}).value();
  }

  RunConfig config_with(const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> overrides = {
        "run.seed=5",
        "run.threads=1",
        absl::StrCat("run.dir=", (dir_.path() / name).string()),
        absl::StrCat("model.config=", FORGE_SOURCE_DIR, "/configs/models/tiny.json"),
        "model.num_hidden_layers=2",
        "model.hidden_size=64",
        "model.intermediate_size=96",
        "model.moe_intermediate_size=32",
        "rollout.n=4",
        "rollout.max_new_tokens=16",
        "reward.weights={lowercase: 1.0}",
        "trainer.total_steps=4",
        "trainer.batch_size=3",
        "trainer.lr=1.0e-3",
        "trainer.micro_batch_size=6",
        "trainer.samples_per_step=1000"};
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    return RunConfig::load("", overrides).value();
  }

  // Trains `config` from the seed's initial weights. `wrap` (optional) puts a test backend around
  // the in-process engine; `before` may change the trainer's dependencies, `after` (say) restore
  // a checkpoint into it; a resumed run passes its checkpoint's step as `resume_step`.
  Trained train(
      RunConfig config,
      const std::function<std::unique_ptr<rollout::GenerationBackend>(rollout::LocalGeneration&)>&
          wrap = nullptr,
      const std::function<void(GrpoTrainerDeps&)>& before = nullptr,
      const std::function<void(GrpoTrainer&)>& after = nullptr, int64_t resume_step = -1) {
    fs::create_directories(config.run.dir);
    set_torch_threads(1);
    LoadedPolicy policy = load_policy(config.model, config.run.seed).value();
    std::shared_ptr<const policy::Tokenizer> tokenizer =
        load_tokenizer(config.tokenizer, policy.config).value();
    PromptSource prompts = PromptSource::create(examples_, ChatTemplate::create("r1").value(),
                                                static_cast<uint64_t>(config.run.seed), true)
                               .value();
    auto metrics = MetricsLog::open(config.run.dir, resume_step).value();
    LoadedPolicy copy = load_policy(config.model, config.run.seed).value();
    rollout::EngineOptions options;
    options.max_seq_len = 128;
    auto local = rollout::LocalGeneration::create(copy.model, tokenizer, options).value();
    std::unique_ptr<rollout::GenerationBackend> wrapped = wrap ? wrap(*local) : nullptr;
    auto registry = reward::RuleRegistry::create(reward_config_of(config)).value();
    EXPECT_TRUE(registry->add(std::make_unique<LowercaseRule>()).ok());
    auto grader = reward::Grader::create(std::move(registry), reward_config_of(config)).value();

    GrpoTrainerDeps deps;
    deps.config = &config;
    deps.policy = policy.model;
    deps.tokenizer = tokenizer.get();
    deps.prompts = &prompts;
    deps.generation = wrapped ? wrapped.get() : local.get();
    deps.grading = grader.get();
    deps.metrics = metrics.get();
    if (before) before(deps);
    Trained out;
    out.run_dir = config.run.dir;
    {
      auto trainer = GrpoTrainer::create(deps);
      if (!trainer.ok()) {
        out.status = trainer.status();
        return out;
      }
      if (after) after(**trainer);
      out.status = (*trainer)->run();
    }
    metrics->close();
    out.metrics = test_support::read_jsonl(config.run.dir + "/metrics.jsonl");
    out.samples = test_support::read_jsonl(config.run.dir + "/samples.jsonl");
    for (auto& [k, v] : policy.model->named_tensors()) out.weights.emplace_back(k, v.clone());
    return out;
  }

  std::vector<Example> examples_;
  test_support::TempDir dir_{"forge_async"};
};

bool timing(const std::string& key) {
  return key.rfind("time/", 0) == 0 || key == "wall_time" || key.find("per_s") != std::string::npos;
}

// Each sample's lag: the version it trains against (step - 1) minus its oldest token's.
std::vector<int64_t> lags(const Trained& t) {
  std::vector<int64_t> out;
  for (const json& s : t.samples) {
    const std::vector<int64_t> v = s.at("token_versions").get<std::vector<int64_t>>();
    EXPECT_FALSE(v.empty());
    out.push_back(s.at("step").get<int64_t>() - 1 - *std::min_element(v.begin(), v.end()));
  }
  return out;
}

TEST_F(AsyncTest, ZeroStalenessIsTheSynchronousLoopWithRoutingRecordedOrNot) {
  const Trained plain = train(config_with("plain", {}));
  const Trained routed = train(
      config_with("routed", {"rollout.return_routing=true", "rollout.partial_rollouts=keep"}));
  ASSERT_TRUE(plain.status.ok()) << plain.status;
  ASSERT_TRUE(routed.status.ok()) << routed.status;
  ASSERT_EQ(plain.metrics.size(), 4u);
  ASSERT_EQ(routed.metrics.size(), 4u);
  for (size_t i = 0; i < plain.metrics.size(); ++i) {
    EXPECT_GT(plain.metrics[i]["grad_norm"].get<double>(), 0.0);
    for (const auto& [key, value] : plain.metrics[i].items()) {
      if (timing(key)) continue;
      EXPECT_EQ(value, routed.metrics[i][key]) << "step " << i + 1 << " " << key;
      EXPECT_EQ(key.rfind("async/", 0), std::string::npos) << key;
    }
    EXPECT_FALSE(plain.metrics[i].contains("moe/routing_agreement"));
    EXPECT_GE(routed.metrics[i]["moe/routing_agreement"].get<double>(), 0.95);
    EXPECT_EQ(routed.metrics[i].size(), plain.metrics[i].size() + 1);
  }
  for (size_t i = 0; i < plain.weights.size(); ++i) {
    EXPECT_TRUE(at::equal(plain.weights[i].second, routed.weights[i].second))
        << plain.weights[i].first;
  }
}

TEST_F(AsyncTest, OneStepOfStalenessTrainsNoSampleOlderThanOneVersion) {
  const Trained t = train(config_with(
      "k1", {"rollout.max_staleness=1", "trainer.tis_cap=2", "rollout.partial_rollouts=off"}));
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.metrics.size(), 4u);
  ASSERT_EQ(t.samples.size(), 4u * 3 * 4);  // every sample of every step
  int one_behind = 0;
  for (int64_t lag : lags(t)) {
    EXPECT_GE(lag, 0);
    EXPECT_LE(lag, 1);
    one_behind += lag == 1;
  }
  EXPECT_GT(one_behind, 0);  // generation ran ahead of training
  double trained = 0;
  for (const json& m : t.metrics) {
    EXPECT_LE(m["async/staleness_max"].get<double>(), 1.0);
    EXPECT_GE(m["async/staleness_mean"].get<double>(), 0.0);
    const double w = m["async/importance_weight_mean"].get<double>();
    EXPECT_GT(w, 0.0);
    EXPECT_LE(w, 2.0);
    trained += m["grad_norm"].get<double>();
  }
  EXPECT_GT(trained, 0.0);
  // Steps 2.. were generated by the weights one update older than the trainer's.
  EXPECT_EQ(t.metrics[1]["async/staleness_max"].get<double>(), 1.0);
}

TEST_F(AsyncTest, PartialRolloutsGiveMixedVersionCompletionsThatTrain) {
  const Trained t = train(config_with("partial", {"rollout.max_staleness=1", "trainer.tis_cap=2",
                                                  "rollout.partial_rollouts=recompute"}),
                          [](rollout::LocalGeneration& local) {
                            return std::make_unique<HoldingGeneration>(local, 5);
                          });
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.metrics.size(), 4u);
  int mixed = 0;
  for (const json& s : t.samples) {
    const auto v = s.at("token_versions").get<std::vector<int64_t>>();
    const int64_t step = s.at("step").get<int64_t>();
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    EXPECT_GE(v.front(), std::max<int64_t>(0, step - 2));
    EXPECT_LE(v.back(), step - 1);
    mixed += v.front() != v.back();
  }
  EXPECT_GT(mixed, 6);  // most of steps 2..4's twelve samples each
  for (int64_t lag : lags(t)) EXPECT_LE(lag, 1);
  for (const json& m : t.metrics) {
    EXPECT_TRUE(std::isfinite(m["loss"].get<double>()));
    EXPECT_GT(m["grad_norm"].get<double>(), 0.0);
    EXPECT_LE(m["async/staleness_max"].get<double>(), 1.0);
  }
}

TEST_F(AsyncTest, RoutingReplayAgreesFullyAndMismatchesNoMoreThanWithout) {
  const Trained off = train(config_with("replay_off", {"rollout.return_routing=true"}));
  const Trained on = train(config_with("replay_on", {"trainer.routing_replay=true"}));
  const Trained stale =
      train(config_with("replay_async", {"trainer.routing_replay=true", "rollout.max_staleness=1",
                                         "trainer.tis_cap=2"}));
  for (const Trained* t : {&off, &on, &stale}) {
    ASSERT_TRUE(t->status.ok()) << t->status;
    ASSERT_EQ(t->metrics.size(), 4u);
  }
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(on.metrics[i]["moe/routing_agreement"].get<double>(), 1.0) << i;
    EXPECT_EQ(stale.metrics[i]["moe/routing_agreement"].get<double>(), 1.0) << i;
    EXPECT_LE(off.metrics[i]["moe/routing_agreement"].get<double>(), 1.0) << i;
  }
  // Step 1 trains the same samples from the same weights in both runs.
  EXPECT_LE(on.metrics[0]["rollout/logprob_mismatch"].get<double>(),
            off.metrics[0]["rollout/logprob_mismatch"].get<double>());
}

// Every step's prompts, from samples.jsonl (a step written twice keeps its last writing).
std::map<int64_t, std::vector<std::string>> prompts_by_step(const std::vector<json>& samples) {
  std::map<int64_t, std::vector<std::string>> out;
  int64_t last = 0;
  for (const json& s : samples) {
    const int64_t step = s.at("step").get<int64_t>();
    if (step != last) out[step].clear();
    last = step;
    out[step].push_back(s.at("prompt").get<std::string>());
  }
  return out;
}

TEST_F(AsyncTest, AResumedAsynchronousRunUsesEveryPromptAsAStraightRunDoes) {
  const std::vector<std::string> async = {"rollout.max_staleness=2", "trainer.tis_cap=2",
                                          "rollout.partial_rollouts=off", "trainer.total_steps=6",
                                          "trainer.save_every=100"};
  const Trained straight = train(config_with("straight", async));
  ASSERT_TRUE(straight.status.ok()) << straight.status;

  // Stop after 2 steps: the checkpoint names steps 3, 4 and 5 as in flight (admitted by version 2).
  auto trainer = std::make_shared<GrpoTrainer*>(nullptr);
  const Trained first = train(
      config_with("resumed", async), nullptr,
      [trainer](GrpoTrainerDeps& deps) {
        deps.stop_requested = [trainer] { return *trainer != nullptr && (*trainer)->step() >= 2; };
      },
      [trainer](GrpoTrainer& t) { *trainer = &t; });
  ASSERT_TRUE(first.status.ok()) << first.status;
  ASSERT_EQ(first.metrics.size(), 2u);
  const std::string checkpoint = first.run_dir + "/checkpoints/step-2";
  const json state = json::parse(read_file(checkpoint + "/state.json").value());
  ASSERT_EQ(state["data"]["in_flight"].size(), 3u) << state.dump();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(state["data"]["in_flight"][i]["step"], 3 + i);

  const Trained resumed = train(
      config_with("resumed", async), nullptr, nullptr,
      [&](GrpoTrainer& t) { ASSERT_TRUE(t.restore(checkpoint).ok()); }, /*resume_step=*/2);
  ASSERT_TRUE(resumed.status.ok()) << resumed.status;
  const auto want = prompts_by_step(straight.samples);
  const auto got = prompts_by_step(resumed.samples);
  ASSERT_EQ(want.size(), 6u);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace forge::rl
