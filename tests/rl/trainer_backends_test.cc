// The GRPO loop behind its two interfaces (rollout::GenerationBackend, reward::GradingBackend):
//  * three steps fully in this process (an in-process engine, the in-process grader; no server, no
//    child process) equal the same three steps through a real rollout worker and a real reward
//    server on loopback: every metric but the timings, and every parameter, bit for bit (CPU);
//  * the collect stage joins by (prompt, sample) and by item id: completions and outcomes that come
//    back shuffled give the identical steps, and a lost or repeated completion fails the step with
//    a message naming it;
//  * trainer.retire_solved retires exactly the prompts whose samples were all accurate.
// The reward is a test rule that varies with the text ("even_bytes": the share of the response's
// bytes that are even), so the groups' advantages and the updates are not zero.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "reward/grader.h"
#include "reward/reward_client.h"
#include "reward/reward_server.h"
#include "rl/config/run_config.h"
#include "rl/data/prompt_source.h"
#include "rl/metrics/metrics_log.h"
#include "rl/policy_loader.h"
#include "rl/tasks/generate.h"
#include "rl/trainer/grpo_trainer.h"
#include "rollout/local_generation.h"
#include "rollout/pool.h"
#include "rollout/worker_server.h"
#include "tests/common/forge_command.h"
#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class EvenBytesRule final : public reward::RewardRule {
 public:
  std::string name() const override { return "even_bytes"; }
  std::string description() const override { return "share of the response's even bytes"; }
  absl::StatusOr<reward::RuleResult> grade(const reward::GradeItem& item,
                                           std::chrono::steady_clock::time_point) const override {
    if (item.completion.empty()) return reward::RuleResult{0.0, "empty"};
    const double even = static_cast<double>(std::count_if(
        item.completion.begin(), item.completion.end(),
        [](char c) { return (static_cast<unsigned char>(c) & 1) == 0; }));
    return reward::RuleResult{even / static_cast<double>(item.completion.size()), ""};
  }
};

std::unique_ptr<reward::Grader> make_grader(const RunConfig& config) {
  auto registry = reward::RuleRegistry::create(reward_config_of(config));
  EXPECT_TRUE(registry.ok()) << registry.status();
  EXPECT_TRUE((*registry)->add(std::make_unique<EvenBytesRule>()).ok());
  auto grader = reward::Grader::create(*std::move(registry), reward_config_of(config));
  EXPECT_TRUE(grader.ok()) << grader.status();
  return *std::move(grader);
}

// Reorders every answer: completions shuffled, outcomes reversed.
class ShufflingGeneration : public rollout::GenerationBackend {
 public:
  explicit ShufflingGeneration(rollout::GenerationBackend& inner) : inner_(inner) {}
  absl::StatusOr<std::vector<rollout::Completion>> generate(
      const rollout::GenerationRequest& request) override {
    auto out = inner_.generate(request);
    if (out.ok()) std::shuffle(out->begin(), out->end(), rng_);
    if (out.ok() && drop_one) out->pop_back();
    if (out.ok() && repeat_one) out->push_back(out->front());
    return out;
  }
  absl::StatusOr<rollout::WeightPublishResult> push_weights(const rollout::NamedTensors& tensors,
                                                            int64_t version) override {
    return inner_.push_weights(tensors, version);
  }
  bool drop_one = false;
  bool repeat_one = false;

 private:
  rollout::GenerationBackend& inner_;
  std::mt19937 rng_{7};
};

// The grader's outcomes for a batch, then `edit` applied to them: how a test makes a grading
// backend answer out of order or pay what it wants.
class EditedGrading : public reward::GradingBackend {
 public:
  using Edit = std::function<void(const std::vector<reward::GradeItem>&,
                                  std::vector<reward::GradeOutcome>&)>;
  EditedGrading(const reward::GradingBackend& inner, Edit edit)
      : inner_(inner), edit_(std::move(edit)) {}
  absl::Status check(const reward::GradeItem& item) const override { return inner_.check(item); }
  absl::StatusOr<std::vector<reward::GradeOutcome>> grade(
      const std::vector<reward::GradeItem>& items) const override {
    auto out = inner_.grade(items);
    if (out.ok()) edit_(items, *out);
    return out;
  }

 private:
  const reward::GradingBackend& inner_;
  Edit edit_;
};

struct Trained {
  absl::Status status;
  std::vector<json> metrics;                  // metrics.jsonl
  std::vector<std::pair<std::string, at::Tensor>> weights;
  DataPosition position;  // the prompt source's at the end
};

class TrainerBackendsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> overrides = {
        "run.seed=5",
        "run.threads=1",
        absl::StrCat("model.config=", FORGE_SOURCE_DIR, "/configs/models/tiny.json"),
        "model.num_hidden_layers=2",
        "model.hidden_size=64",
        "model.intermediate_size=96",
        "model.moe_intermediate_size=32",
        "rollout.n=4",
        "rollout.max_new_tokens=16",
        "reward.weights={even_bytes: 1.0}",
        "reward.concurrency=2",
        "trainer.total_steps=3",
        "trainer.batch_size=3",
        "trainer.lr=1.0e-3",
        "trainer.micro_batch_size=5",
        "trainer.mini_batch_size=2",
        "trainer.ppo_epochs=2",
        "trainer.samples_per_step=0"};
    config_ = RunConfig::load("", overrides).value();
    tasks::GenerateOptions gen;
    gen.n = 16;
    examples_ = tasks::generate_examples(gen, {}).value();
  }

  // Three steps from the same initial weights with `generation` and `grading` (built by the
  // callers around a fresh copy of the policy).
  Trained train(const std::string& name,
                const std::function<Trained(RunConfig&, policy::Model,
                                            std::shared_ptr<const policy::Tokenizer>,
                                            PromptSource&, MetricsLog&)>& body) {
    RunConfig config = config_;
    config.run.dir = (dir_.path() / name).string();
    fs::create_directories(config.run.dir);
    set_torch_threads(1);
    LoadedPolicy policy = load_policy(config.model, config.run.seed).value();
    std::shared_ptr<const policy::Tokenizer> tokenizer =
        load_tokenizer(config.tokenizer, policy.config).value();
    PromptSource prompts = PromptSource::create(examples_, ChatTemplate::create("r1").value(),
                                                static_cast<uint64_t>(config.run.seed), true)
                               .value();
    auto metrics = MetricsLog::open(config.run.dir, -1).value();
    Trained out = body(config, policy.model, tokenizer, prompts, *metrics);
    metrics->close();
    out.metrics = test_support::read_jsonl(config.run.dir + "/metrics.jsonl");
    for (auto& [k, v] : policy.model->named_tensors()) out.weights.emplace_back(k, v.clone());
    out.position = prompts.position();
    return out;
  }

  static Trained run_trainer(RunConfig& config, policy::Model model,
                             const policy::Tokenizer& tokenizer, PromptSource& prompts,
                             MetricsLog& metrics, rollout::GenerationBackend& generation,
                             const reward::GradingBackend& grading) {
    GrpoTrainerDeps deps;
    deps.config = &config;
    deps.policy = model;
    deps.tokenizer = &tokenizer;
    deps.prompts = &prompts;
    deps.generation = &generation;
    deps.grading = &grading;
    deps.metrics = &metrics;
    Trained out;
    auto trainer = GrpoTrainer::create(deps);
    out.status = trainer.ok() ? (*trainer)->run() : trainer.status();
    return out;
  }

  // An in-process engine over its own copy of the policy (the trainer pushes its weights first).
  std::unique_ptr<rollout::LocalGeneration> local_generation(
      const RunConfig& config, std::shared_ptr<const policy::Tokenizer> tokenizer) {
    LoadedPolicy copy = load_policy(config.model, config.run.seed).value();
    rollout::EngineOptions options;
    options.max_seq_len = 128;
    return rollout::LocalGeneration::create(copy.model, tokenizer, options).value();
  }

  Trained in_process(const std::string& name, bool shuffled, bool drop = false,
                     bool repeat = false) {
    return train(name, [&](RunConfig& config, policy::Model model,
                           std::shared_ptr<const policy::Tokenizer> tokenizer,
                           PromptSource& prompts, MetricsLog& metrics) {
      auto local = local_generation(config, tokenizer);
      auto grader = make_grader(config);
      if (!shuffled) {
        return run_trainer(config, model, *tokenizer, prompts, metrics, *local, *grader);
      }
      ShufflingGeneration generation(*local);
      generation.drop_one = drop;
      generation.repeat_one = repeat;
      EditedGrading grading(*grader, [](const auto&, std::vector<reward::GradeOutcome>& out) {
        std::reverse(out.begin(), out.end());  // outcomes in another order than the items
      });
      return run_trainer(config, model, *tokenizer, prompts, metrics, generation, grading);
    });
  }

  RunConfig config_;
  std::vector<Example> examples_;
  test_support::TempDir dir_{"forge_trainer_backends"};
};

// Timings differ between any two runs; everything else must not.
bool timing(const std::string& key) {
  return key.rfind("time/", 0) == 0 || key == "wall_time" || key == "tokens_per_s" ||
         key == "response_tokens_per_s";
}

void expect_same_steps(const Trained& a, const Trained& b) {
  ASSERT_TRUE(a.status.ok()) << a.status;
  ASSERT_TRUE(b.status.ok()) << b.status;
  ASSERT_EQ(a.metrics.size(), 3u);
  ASSERT_EQ(b.metrics.size(), 3u);
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    for (const auto& [key, value] : a.metrics[i].items()) {
      if (timing(key)) continue;
      ASSERT_TRUE(b.metrics[i].contains(key)) << key;
      EXPECT_EQ(value, b.metrics[i][key]) << "step " << i + 1 << " " << key;
    }
    EXPECT_EQ(a.metrics[i].size(), b.metrics[i].size()) << "step " << i + 1;
  }
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (size_t i = 0; i < a.weights.size(); ++i) {
    EXPECT_TRUE(at::equal(a.weights[i].second, b.weights[i].second)) << a.weights[i].first;
  }
}

TEST_F(TrainerBackendsTest, InProcessStepsEqualTheStepsThroughServersOnLoopback) {
  const Trained local = in_process("local", /*shuffled=*/false);
  ASSERT_TRUE(local.status.ok()) << local.status;
  // The rewards vary within groups, so the steps train.
  for (const json& row : local.metrics) {
    EXPECT_GT(row["reward/std"].get<double>(), 0.0) << row.dump();
    EXPECT_GT(row["grad_norm"].get<double>(), 0.0) << row.dump();
  }

  const Trained served = train("served", [&](RunConfig& config, policy::Model model,
                                             std::shared_ptr<const policy::Tokenizer> tokenizer,
                                             PromptSource& prompts, MetricsLog& metrics) {
    LoadedPolicy copy = load_policy(config.model, config.run.seed).value();
    rollout::EngineOptions options;
    options.max_seq_len = 128;
    auto engine = rollout::Engine::create(copy.model, tokenizer, options).value();
    auto worker = rollout::RolloutWorker::start("127.0.0.1:0", std::move(engine)).value();
    auto server = reward::RewardServer::start("127.0.0.1:0", make_grader(config)).value();
    auto pool = rollout::Pool::create({worker->address()}).value();
    reward::RewardClient client(absl::StrCat("127.0.0.1:", server->port()));
    return run_trainer(config, model, *tokenizer, prompts, metrics, *pool, client);
  });
  expect_same_steps(local, served);
}

TEST_F(TrainerBackendsTest, ShuffledCompletionsAndOutcomesGiveTheIdenticalSteps) {
  expect_same_steps(in_process("ordered", false), in_process("shuffled", true));
}

TEST_F(TrainerBackendsTest, ALostOrRepeatedCompletionFailsTheStepNamingIt) {
  const Trained lost = in_process("lost", true, /*drop=*/true);
  EXPECT_EQ(lost.status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(lost.status.message().find("no completion for (prompt"), std::string::npos)
      << lost.status;
  const Trained repeated = in_process("repeated", true, false, /*repeat=*/true);
  EXPECT_EQ(repeated.status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(repeated.status.message().find("twice"), std::string::npos) << repeated.status;
}

TEST_F(TrainerBackendsTest, RetireSolvedRetiresExactlyThePromptsAnsweredRightInEverySample) {
  config_.trainer.retire_solved = true;
  config_.trainer.total_steps = 7;  // 21 prompts drawn: all 16 at least once
  const Trained run = train("retire", [&](RunConfig& config, policy::Model model,
                                          std::shared_ptr<const policy::Tokenizer> tokenizer,
                                          PromptSource& prompts, MetricsLog& metrics) {
    auto local = local_generation(config, tokenizer);
    auto grader = make_grader(config);
    // An "accuracy" of 1 for every sample of a prompt whose answer is even (as if the policy had
    // solved those), 0 for the others.
    EditedGrading grading(*grader, [](const std::vector<reward::GradeItem>& items,
                                      std::vector<reward::GradeOutcome>& out) {
      for (size_t i = 0; i < items.size(); ++i) {
        out[i].components["accuracy"] = std::stoi(items[i].answer) % 2 == 0 ? 1.0 : 0.0;
      }
    });
    return run_trainer(config, model, *tokenizer, prompts, metrics, *local, grading);
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  std::vector<int64_t> even;
  for (size_t i = 0; i < examples_.size(); ++i) {
    if (std::stoi(examples_[i].answer) % 2 == 0) even.push_back(static_cast<int64_t>(i));
  }
  ASSERT_FALSE(even.empty());
  ASSERT_LT(even.size(), examples_.size());
  EXPECT_EQ(run.position.retired, even);
  // Each retired prompt was drawn once: the 7 steps' 21 draws are the 16 prompts once, then 5 of
  // those never retired.
  ASSERT_EQ(run.metrics.size(), 7u);
  double retired = 0;
  for (const json& row : run.metrics) retired += row["data/retired_prompts"].get<double>();
  EXPECT_EQ(retired, static_cast<double>(even.size()));
  EXPECT_EQ(run.metrics.back()["data/retired_total"], static_cast<double>(even.size()));
  const double last_accuracy = run.metrics.back()["accuracy"].get<double>();
  EXPECT_EQ(last_accuracy, 0.0) << "a retired (even-answer) prompt was drawn again";
}

}  // namespace
}  // namespace forge::rl
