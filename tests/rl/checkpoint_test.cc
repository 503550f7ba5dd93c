// Training checkpoints: AdamW matches torch's, a checkpoint round-trips the model, optimizer, data
// position and RNG exactly, old ones are pruned, and a corrupted or partial one is never loaded.
#include "rl/checkpoint/checkpointer.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>

#include "policy/model_config.h"

#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

policy::Model tiny_model(uint64_t seed) {
  auto config = policy::ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) +
                                               "/configs/models/tiny.json");
  EXPECT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->apply_overrides({{"num_hidden_layers", 2}, {"hidden_size", 64},
                                       {"intermediate_size", 96}, {"moe_intermediate_size", 32}})
                  .ok());
  auto model = policy::create_model(*config, seed);
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

std::vector<std::pair<std::string, at::Tensor>> trainable(policy::Model& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& p : model->named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

void train_one_step(policy::Model& model, AdamW& optimizer) {
  const at::Tensor ids = at::randint(0, 200, {2, 9}, at::kLong);
  auto out = model->forward(ids);
  out.logits.pow(2).mean().backward();
  optimizer.step(1e-3);
  optimizer.zero_grad();
}

class CheckpointTest : public ::testing::Test {
 protected:
  test_support::TempDir tmp_{"forge_ckpt"};
  const fs::path& dir_ = tmp_.path();
};

TEST(AdamWTest, MatchesTorchAdamW) {
  at::manual_seed(3);
  at::Tensor a = at::randn({5, 4}, at::kDouble).requires_grad_(true);
  at::Tensor b = a.detach().clone().requires_grad_(true);
  AdamW ours({{"w", a}}, {0.9, 0.95, 1e-8, 0.1});
  torch::optim::AdamW theirs({b}, torch::optim::AdamWOptions(2e-3).betas({0.9, 0.95})
                                      .eps(1e-8).weight_decay(0.1));
  for (int step = 0; step < 5; ++step) {
    const at::Tensor target = at::randn({5, 4}, at::kDouble);
    (a - target).pow(3).sum().backward();
    (b - target).pow(3).sum().backward();
    ours.step(2e-3);
    theirs.step();
    ours.zero_grad();
    theirs.zero_grad();
  }
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-12);
}

// model.dtype: bfloat16 trains bf16 parameters through fp32 masters: with the same gradients the
// master follows an fp32 parameter bit for bit and the bf16 parameter is that master rounded, so
// steps smaller than bf16's spacing (2^-7 at 1.0) still add up; the master survives a round trip
// through the optimizer state, and without it the parameter itself is taken.
TEST(AdamWTest, Bfloat16ParametersFollowAnFp32Master) {
  at::manual_seed(5);
  at::Tensor fp32 = (1.0 + 0.01 * at::randn({4, 3})).requires_grad_(true);
  at::Tensor bf16 = fp32.detach().to(at::kBFloat16).requires_grad_(true);
  fp32.detach().copy_(bf16.detach());  // both start from the same (bf16-representable) values
  const at::Tensor start = bf16.detach().clone();
  AdamW a({{"w", fp32}}, {0.9, 0.95, 1e-8, 0.1});
  AdamW b({{"w", bf16}}, {0.9, 0.95, 1e-8, 0.1});
  for (int step = 0; step < 12; ++step) {
    const at::Tensor g = at::randn({4, 3}).to(at::kBFloat16);  // representable in both
    fp32.mutable_grad() = g.to(at::kFloat);
    bf16.mutable_grad() = g;
    a.step(1e-3);  // each step moves a weight by ~1e-3 < 2^-8, half bf16's spacing near 1
    b.step(1e-3);
  }
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(bf16.detach(), fp32.detach().to(at::kBFloat16)));
  EXPECT_GT((bf16.detach() - start).abs().max().item<float>(), 0.0f);  // small steps added up

  std::map<std::string, at::Tensor> state;
  for (const auto& [name, t] : b.state_tensors()) state[name] = t.clone();
  ASSERT_EQ(state.count("w.master"), 1u);
  EXPECT_EQ(state["w.master"].scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(state["w.master"], fp32.detach()));
  EXPECT_EQ(a.state_tensors().size(), 3u);  // fp32 parameters have no master

  at::Tensor restored = bf16.detach().clone().requires_grad_(true);
  AdamW c({{"w", restored}}, {0.9, 0.95, 1e-8, 0.1});
  ASSERT_TRUE(c.load_state(state).ok());
  std::map<std::string, at::Tensor> again;
  for (const auto& [name, t] : c.state_tensors()) again[name] = t;
  EXPECT_TRUE(at::equal(again["w.master"], state["w.master"]));  // not the rounded parameter
  state.erase("w.master");
  AdamW d({{"w", restored}}, {0.9, 0.95, 1e-8, 0.1});
  ASSERT_TRUE(d.load_state(state).ok());
  for (const auto& [name, t] : d.state_tensors()) again[name] = t;
  EXPECT_TRUE(at::equal(again["w.master"], restored.detach().to(at::kFloat)));
}

TEST(AdamWTest, ClipGradNormScalesToTheBound) {
  at::Tensor w = at::zeros({3}, at::kDouble).requires_grad_(true);
  AdamW opt({{"w", w}}, {});
  (w * at::tensor({3.0, 4.0, 0.0}, at::kDouble)).sum().backward();
  EXPECT_NEAR(opt.clip_grad_norm(1.0), 5.0, 1e-12);
  EXPECT_NEAR(w.grad().norm().item<double>(), 1.0, 1e-5);
}

TEST_F(CheckpointTest, RoundTripsModelOptimizerStateAndRngExactly) {
  policy::Model model = tiny_model(1);
  AdamW optimizer(trainable(model), {0.9, 0.999, 1e-8, 0.01});
  train_one_step(model, optimizer);
  Checkpointer checkpointer(dir_.string(), 3);
  TrainingState state;
  state.step = 7;
  state.policy_version = 7;
  state.data = {{"epoch", 1}, {"index", 5}};
  state.extra = {{"best_loss", 0.5}};
  at::manual_seed(42);
  ASSERT_TRUE(checkpointer.save(*model, optimizer, state).ok());
  const at::Tensor expected_draw = at::rand({4});  // what the RNG gives right after the save

  // Continue the original one more step, for comparison with the restored copy.
  train_one_step(model, optimizer);

  policy::Model restored = tiny_model(99);
  AdamW restored_opt(trainable(restored), {0.9, 0.999, 1e-8, 0.01});
  auto newest = checkpointer.newest_valid();
  ASSERT_TRUE(newest.has_value());
  auto loaded = Checkpointer::load(*newest, *restored, &restored_opt);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->step, 7);
  EXPECT_EQ(loaded->data, state.data);
  EXPECT_EQ(loaded->extra, state.extra);
  EXPECT_TRUE(at::equal(at::rand({4}), expected_draw));
  EXPECT_EQ(restored_opt.steps(), 1);

  // The same next step from the restored checkpoint reproduces the original bit for bit.
  at::manual_seed(5);
  policy::Model original_again = tiny_model(1);
  (void)original_again;
  // Recreate the original's pre-step state by loading the checkpoint a second time.
  policy::Model copy = tiny_model(123);
  AdamW copy_opt(trainable(copy), {0.9, 0.999, 1e-8, 0.01});
  ASSERT_TRUE(Checkpointer::load(*newest, *copy, &copy_opt).ok());
  at::manual_seed(11);
  train_one_step(restored, restored_opt);
  at::manual_seed(11);
  train_one_step(copy, copy_opt);
  const auto a = restored->named_tensors();
  const auto b = copy->named_tensors();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
  }
}

TEST_F(CheckpointTest, KeepsOnlyTheNewestK) {
  policy::Model model = tiny_model(1);
  AdamW optimizer(trainable(model), {});
  Checkpointer checkpointer(dir_.string(), 2);
  for (int step = 1; step <= 4; ++step) {
    TrainingState s;
    s.step = step;
    ASSERT_TRUE(checkpointer.save(*model, optimizer, s).ok());
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"step-3", "step-4"}));
}

TEST_F(CheckpointTest, CorruptedOrPartialCheckpointsAreSkipped) {
  policy::Model model = tiny_model(1);
  AdamW optimizer(trainable(model), {});
  Checkpointer checkpointer(dir_.string(), 5);
  for (int step = 1; step <= 2; ++step) {
    TrainingState s;
    s.step = step;
    ASSERT_TRUE(checkpointer.save(*model, optimizer, s).ok());
  }
  // Flip one byte of step-2's weights; leave a half-written step-3 without a manifest.
  const fs::path weights = dir_ / "step-2" / "model.safetensors";
  std::fstream f(weights, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(fs::file_size(weights) - 3));
  f.put('\x7f');
  f.close();
  fs::create_directories(dir_ / "step-3");
  std::ofstream(dir_ / "step-3" / "model.safetensors") << "partial";

  std::vector<std::string> skipped;
  auto newest = checkpointer.newest_valid(&skipped);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(fs::path(*newest).filename(), "step-1");
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("step-3"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("model.safetensors"), std::string::npos) << skipped[1];

  policy::Model other = tiny_model(2);
  auto bad = Checkpointer::load((dir_ / "step-2").string(), *other, nullptr);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace forge::rl
