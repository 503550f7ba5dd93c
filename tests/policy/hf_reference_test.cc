// Golden test: our fp32 logits equal an independent float64 reference of Hugging Face's
// DeepseekV3ForCausalLM (tests/policy/hf_reference.py, Debian's python3-torch) on a checkpoint we
// saved: same tensor names, RoPE layout, YaRN, MLA, routing (bias included) and MoE arithmetic.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/checkpoint.h"
#include "policy/model.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

namespace fs = std::filesystem;

TEST(HfReference, LogitsMatchAFloat64ReferenceOfTheHuggingFaceModel) {
  const std::string python = testing::reference_python();
  if (python.empty()) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  const fs::path dir = fs::temp_directory_path() / ("forge_hf_ref_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ModelConfig c = testing::tiny_config();
  Model model(c, 17);
  // A live routing bias: selection changes, weights must not.
  for (const DecoderLayer& layer : model->model->layer_list) {
    if (layer->is_moe()) layer->moe->gate->e_score_correction_bias.copy_(testing::randn({8}, 5, 0.05));
  }
  ASSERT_TRUE(save_checkpoint(*model, (dir / "ckpt").string()).ok());

  const std::vector<std::vector<int64_t>> seqs = {
      {256, 'T', 'h', 'e', ' ', 'a', 'n', 's', 'w', 'e', 'r', ' ', 'i', 's', ' ', '4', '2', 259},
      {256, 1, 2, 3, 100, 200, 255, 260, 261, 7}};
  std::ofstream(dir / "ids.json") << nlohmann::json(seqs).dump();
  const std::string cmd = python + " " + FORGE_SOURCE_DIR +
                          "/tests/policy/hf_reference.py " + (dir / "ckpt").string() + " " +
                          (dir / "ids.json").string() + " " + (dir / "out.json").string();
  const int status = std::system(cmd.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    fs::remove_all(dir);
    GTEST_SKIP() << python << " has no torch (Debian: python3-torch)";
  }
  ASSERT_EQ(status, 0) << cmd;
  nlohmann::json ref;
  std::ifstream(dir / "out.json") >> ref;
  fs::remove_all(dir);

  double worst = 0, scale = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    at::Tensor ours = model->forward(at::tensor(seqs[i], at::kLong).unsqueeze(0)).logits[0];
    const auto rows = ref["logits"][i].get<std::vector<std::vector<double>>>();
    ASSERT_EQ(rows.size(), seqs[i].size());
    for (size_t t = 0; t < rows.size(); ++t) {
      at::Tensor want = at::tensor(rows[t], at::kDouble);
      worst = std::max(worst, testing::max_abs_diff(ours[t], want));
      scale = std::max(scale, want.abs().max().item<double>());
    }
  }
  // fp32 vs float64 through 4 layers: 1e-4 absolute on logits of magnitude ~0.1-1.
  EXPECT_LT(worst, 1e-4) << "logit scale " << scale;
  EXPECT_GT(scale, 0.05);
  std::printf("max |ours - float64 HF reference| = %.3g (largest logit %.3g)\n", worst, scale);
}

}  // namespace
}  // namespace forge::policy
