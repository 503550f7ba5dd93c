// Checkpoints: save -> load round-trips bit for bit (single file and sharded), config.json is
// written beside, writes are atomic, and every kind of mismatch is reported naming the tensor.
#include "policy/checkpoint.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "policy/safetensors.h"
#include "tests/policy/test_util.h"

#include "tests/common/temp_dir.h"

namespace forge::policy {
namespace {

namespace fs = std::filesystem;
using testing::micro_config;
using testing::randn;
using testing::tiny_config;

class CheckpointTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  test_support::TempDir tmp_{"forge_ckpt"};
  const fs::path& dir_ = tmp_.path();
};

void expect_identical(Model& a, Model& b) {
  auto ta = a->named_tensors(), tb = b->named_tensors();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].first, tb[i].first);
    EXPECT_TRUE(at::equal(ta[i].second, tb[i].second)) << ta[i].first;
  }
}

TEST_F(CheckpointTest, SaveLoadRoundTripsBitForBit) {
  Model model(tiny_config(), 5);
  model->model->layer_list[2]->moe->gate->e_score_correction_bias.copy_(randn({8}, 1, 0.1));
  ASSERT_TRUE(save_checkpoint(*model, path("ckpt")).ok());
  EXPECT_TRUE(fs::exists(path("ckpt/model.safetensors")));
  auto config = read_checkpoint_config(path("ckpt"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->to_json(), tiny_config().to_json());

  auto loaded = load_checkpoint(path("ckpt"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  expect_identical(model, *loaded);
  at::Tensor ids = at::arange(10, at::kLong).unsqueeze(0);
  EXPECT_TRUE(at::equal(model->forward(ids).logits, (*loaded)->forward(ids).logits));
}

TEST_F(CheckpointTest, ShardedRoundTripWritesAnIndex) {
  Model model(micro_config(), 6);
  SaveOptions options;
  options.max_shard_bytes = 20000;
  ASSERT_TRUE(save_checkpoint(*model, path("sharded"), options).ok());
  EXPECT_FALSE(fs::exists(path("sharded/model.safetensors")));
  ASSERT_TRUE(fs::exists(path("sharded/model.safetensors.index.json")));
  int shards = 0;
  for (const auto& entry : fs::directory_iterator(path("sharded"))) {
    shards += entry.path().extension() == ".safetensors";
  }
  EXPECT_GT(shards, 2);
  auto loaded = load_checkpoint(path("sharded"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  expect_identical(model, *loaded);
}

TEST_F(CheckpointTest, ShapeMismatchNamesTheTensor) {
  ModelConfig c = micro_config();
  Model model(c, 1);
  ASSERT_TRUE(save_checkpoint(*model, path("a")).ok());
  ModelConfig other = c;
  other.kv_lora_rank = 4;
  Model target(other, 2);
  absl::Status st = load_weights(*target, path("a"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("model.layers.0.self_attn.kv_a_proj_with_mqa.weight"),
            std::string::npos) << st;
  EXPECT_NE(st.message().find("[16, 32]"), std::string::npos) << st;  // in the file
  EXPECT_NE(st.message().find("[12, 32]"), std::string::npos) << st;  // the config's
  // Nothing was copied.
  Model fresh(other, 2);
  auto a = target->named_tensors(), b = fresh->named_tensors();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].second, b[i].second));
}

TEST_F(CheckpointTest, MissingUnexpectedAndIgnorableTensors) {
  ModelConfig c = micro_config();
  Model model(c, 1);
  auto tensors = model->named_tensors();
  fs::create_directories(path("m"));
  // Missing: drop one tensor.
  std::vector<std::pair<std::string, at::Tensor>> missing(tensors.begin() + 1, tensors.end());
  ASSERT_TRUE(write_safetensors(path("m/model.safetensors"), missing).ok());
  absl::Status st = load_weights(*model, path("m"));
  EXPECT_NE(st.message().find("1 missing ('" + tensors[0].first + "')"), std::string::npos) << st;

  // Unexpected: an extra tensor.
  auto extra = tensors;
  extra.emplace_back("model.layers.0.mlp.surprise.weight", at::zeros({2}));
  ASSERT_TRUE(write_safetensors(path("m/model.safetensors"), extra).ok());
  st = load_weights(*model, path("m"));
  EXPECT_NE(st.message().find("1 unexpected ('model.layers.0.mlp.surprise.weight' in "
                              "'model.safetensors')"),
            std::string::npos) << st;

  // Both at once, every name in one error.
  missing.emplace_back("model.layers.0.mlp.surprise.weight", at::zeros({2}));
  missing.emplace_back("model.layers.0.mlp.other.weight", at::zeros({2}));
  ASSERT_TRUE(write_safetensors(path("m/model.safetensors"), missing).ok());
  st = load_weights(*model, path("m"));
  EXPECT_NE(st.message().find("1 missing ('" + tensors[0].first + "'); 2 unexpected"),
            std::string::npos) << st;
  EXPECT_NE(st.message().find("mlp.other.weight"), std::string::npos) << st;

  // Skipped by name: DeepSeek-V3's multi-token-prediction layers past num_hidden_layers (counted),
  // and a rotary cache; a layer past those is unexpected.
  auto mtp = tensors;
  mtp.emplace_back("model.layers.3.eh_proj.weight", at::zeros({2, 2}));
  mtp.emplace_back("model.layers.3.self_attn.o_proj.weight", at::zeros({2, 2}));
  mtp.emplace_back("model.layers.0.self_attn.rotary_emb.inv_freq", at::zeros({4}));
  ASSERT_TRUE(write_safetensors(path("m/model.safetensors"), mtp).ok());
  EXPECT_FALSE(load_weights(*model, path("m")).ok());  // this config has no MTP layers
  ModelConfig with_mtp = c;
  with_mtp.num_nextn_predict_layers = 1;
  Model mtp_model(with_mtp, 1);
  LoadReport report;
  ASSERT_TRUE(load_weights(*mtp_model, path("m"), &report).ok());
  EXPECT_EQ(report.skipped_mtp_tensors, 2);
  EXPECT_EQ(report.skipped_mtp_layers, std::vector<int>{3});
  EXPECT_NE(report.summary().find("multi-token-prediction layer 3 (2 tensors)"), std::string::npos)
      << report.summary();
  mtp.emplace_back("model.layers.4.eh_proj.weight", at::zeros({2, 2}));
  ASSERT_TRUE(write_safetensors(path("m/model.safetensors"), mtp).ok());
  st = load_weights(*mtp_model, path("m"));
  EXPECT_NE(st.message().find("model.layers.4.eh_proj.weight"), std::string::npos) << st;

  // Non-finite values are rejected by name.
  auto nan = tensors;
  nan[3].second = nan[3].second.clone().fill_(std::numeric_limits<float>::quiet_NaN());
  ASSERT_TRUE(write_safetensors(path("m/model.safetensors"), nan).ok());
  st = load_weights(*model, path("m"));
  EXPECT_NE(st.message().find(tensors[3].first), std::string::npos) << st;

  // A checkpoint of bf16 weights loads, converted to the model's fp32.
  std::vector<std::pair<std::string, at::Tensor>> bf16;
  for (auto& [name, t] : tensors) bf16.emplace_back(name, t.to(at::kBFloat16));
  ASSERT_TRUE(write_safetensors(path("m/model.safetensors"), bf16).ok());
  Model target(c, 99);
  ASSERT_TRUE(load_weights(*target, path("m")).ok());
  EXPECT_TRUE(at::equal(target->named_tensors()[0].second,
                        tensors[0].second.to(at::kBFloat16).to(at::kFloat)));
}

TEST_F(CheckpointTest, CorruptFilesAreReportedWithTheirPath) {
  fs::create_directories(path("bad"));
  std::ofstream(path("bad/model.safetensors")) << std::string("\x09\0\0\0\0\0\0\0{not json", 17);
  absl::Status st = load_weights(*Model(micro_config(), 1), path("bad"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad/model.safetensors"), std::string::npos) << st;

  st = load_weights(*Model(micro_config(), 1), path("nowhere"));
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
}

TEST_F(CheckpointTest, OverwriteIsAtomicAndLeavesNoTemporaries) {
  Model first(micro_config(), 1), second(micro_config(), 2);
  ASSERT_TRUE(save_checkpoint(*first, path("c")).ok());
  ASSERT_TRUE(save_checkpoint(*second, path("c")).ok());
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "c");
  }
  EXPECT_EQ(entries, 1);
  auto loaded = load_checkpoint(path("c"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  expect_identical(second, *loaded);
}

TEST_F(CheckpointTest, CopyNamedTensorsChecksNamesAndShapes) {
  Model model(micro_config(), 1), source(micro_config(), 2);
  ASSERT_TRUE(copy_named_tensors(*model, source->named_tensors(), true).ok());
  expect_identical(model, source);
  absl::Status st = copy_named_tensors(*model, {{"model.norm.weight", at::ones({3})}}, false);
  EXPECT_NE(st.message().find("model.norm.weight"), std::string::npos) << st;
  st = copy_named_tensors(*model, {{"model.norm.weight", at::ones({32})}}, true);
  EXPECT_NE(st.message().find("missing tensor"), std::string::npos) << st;
  st = copy_named_tensors(*model, {{"model.nope", at::ones({32})}}, false);
  EXPECT_NE(st.message().find("model.nope"), std::string::npos) << st;
}

}  // namespace
}  // namespace forge::policy
