// Golden test of every family against an independent float64 reference: for each family's
// published config.json (configs/models/, shrunk through overrides), tests/policy/
// hf_write_checkpoint.py (Debian's python3-torch) writes random weights in the family's Hugging
// Face layout and storage (F32, F16, BF16, DeepSeek-V3's FP8 blocks with an MTP layer; single file
// or shards) and the float64 logits of hf_reference.py. Forge loads the folder and must give those
// logits within 1e-5 relative in fp32 (and within bf16's precision with bfloat16 parameters);
// saving it again must produce the same tensor names, shapes and config keys the reference wrote.
//
// With FORGE_PARITY_DIR set, every family's saved checkpoint and Forge's logits are also written
// there (<dir>/<case>/ + forge_logits.json) for tests/policy/hf_transformers_parity.py, which
// compares them with Hugging Face transformers on a host that has it.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/checkpoint.h"
#include "policy/model.h"
#include "tests/common/temp_dir.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FamilyCase {
  const char* name;      // folder name
  const char* config;    // configs/models/<config>
  const char* overrides; // shrinking the published config
  const char* storage;   // f32 | bf16 | f16 | fp8
  int shards;
};

// Every family, every storage dtype, sharded and not, every router and rope variant.
const FamilyCase kCases[] = {
    {"deepseek_v2", "deepseek-v2.json",  // group_limited_greedy, routed_scaling_factor 16, q_lora
     R"({"num_hidden_layers": 3, "hidden_size": 128, "intermediate_size": 192,
         "moe_intermediate_size": 48, "num_attention_heads": 4, "num_key_value_heads": 4,
         "q_lora_rank": 96, "kv_lora_rank": 64, "qk_nope_head_dim": 32, "qk_rope_head_dim": 16,
         "v_head_dim": 32, "n_routed_experts": 16, "num_experts_per_tok": 4, "vocab_size": 256,
         "bos_token_id": 0, "eos_token_id": 1})",
     "f32", 1},
    {"deepseek_v2_lite", "deepseek-v2-lite.json",  // greedy, plain q_proj
     R"({"num_hidden_layers": 2, "hidden_size": 128, "intermediate_size": 192,
         "moe_intermediate_size": 48, "num_attention_heads": 4, "num_key_value_heads": 4,
         "kv_lora_rank": 64, "qk_nope_head_dim": 32, "qk_rope_head_dim": 16, "v_head_dim": 32,
         "n_routed_experts": 8, "num_experts_per_tok": 3, "vocab_size": 256, "bos_token_id": 0,
         "eos_token_id": 1})",
     "bf16", 1},
    {"deepseek_v3", "deepseek-v3.json",  // sigmoid + noaux_tc, FP8 blocks (partial ones too), MTP
     R"({"num_hidden_layers": 3, "first_k_dense_replace": 1, "hidden_size": 256,
         "intermediate_size": 320, "moe_intermediate_size": 160, "num_attention_heads": 4,
         "num_key_value_heads": 4, "q_lora_rank": 192, "kv_lora_rank": 160,
         "qk_nope_head_dim": 32, "qk_rope_head_dim": 16, "v_head_dim": 32,
         "n_routed_experts": 16, "num_experts_per_tok": 4, "vocab_size": 320})",
     "fp8", 2},
    {"qwen2", "deepseek-r1-distill-qwen-1.5b.json",  // q/k/v biases
     R"({"num_hidden_layers": 2, "hidden_size": 96, "intermediate_size": 160,
         "num_attention_heads": 6, "num_key_value_heads": 2, "vocab_size": 256,
         "bos_token_id": 0, "eos_token_id": 1})",
     "bf16", 1},
    {"llama", "deepseek-r1-distill-llama-8b.json",  // llama3 rope scaling, biases switched on
     R"({"num_hidden_layers": 2, "hidden_size": 128, "intermediate_size": 224,
         "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 256,
         "bos_token_id": 0, "eos_token_id": 1, "attention_bias": true, "mlp_bias": true})",
     "f32", 3},
    {"qwen3", "qwen3-0.6b.json",  // q/k norms, tied embeddings, head_dim != hidden / heads
     R"({"num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 256,
         "bos_token_id": 0, "eos_token_id": 1})",
     "f16", 1},
    {"qwen3_moe", "qwen3-30b-a3b.json",  // softmax top-k + norm_topk_prob, an mlp_only layer
     R"({"num_hidden_layers": 3, "hidden_size": 64, "intermediate_size": 128,
         "moe_intermediate_size": 32, "num_attention_heads": 4, "num_key_value_heads": 2,
         "head_dim": 32, "num_experts": 8, "num_experts_per_tok": 2, "mlp_only_layers": [1],
         "vocab_size": 256, "bos_token_id": 0, "eos_token_id": 1})",
     "bf16", 2},
};

const std::vector<std::vector<int64_t>> kSequences = {
    {1, 5, 9, 200, 17, 3, 44, 90, 120, 7, 8, 250, 33, 61, 2, 19},
    {2, 3, 4, 5, 6, 100, 101, 102}};

// name -> shape of every tensor in a checkpoint folder.
std::map<std::string, std::vector<int64_t>> stored_shapes(const std::string& dir) {
  std::map<std::string, std::vector<int64_t>> out;
  auto files = CheckpointFiles::open(dir);
  EXPECT_TRUE(files.ok()) << files.status();
  if (!files.ok()) return out;
  for (const auto& [name, file] : files->tensors()) out[name] = files->entry(name).shape;
  return out;
}

json read_json(const fs::path& path) {
  json j;
  std::ifstream(path) >> j;
  return j;
}

// max |a - b| / max |b| over each position of every sequence (b: the reference logits).
std::vector<double> position_errors(ModelImpl& model, const json& reference, double* scale_out) {
  std::vector<double> worst;
  double scale = 0;
  for (size_t i = 0; i < kSequences.size(); ++i) {
    at::Tensor ours = model.forward(at::tensor(kSequences[i], at::kLong).unsqueeze(0)).logits[0];
    const auto rows = reference["logits"][i].get<std::vector<std::vector<double>>>();
    EXPECT_EQ(rows.size(), kSequences[i].size());
    for (size_t t = 0; t < rows.size() && t < kSequences[i].size(); ++t) {
      at::Tensor want = at::tensor(rows[t], at::kDouble);
      worst.push_back(testing::max_abs_diff(ours[static_cast<int64_t>(t)], want));
      scale = std::max(scale, want.abs().max().item<double>());
    }
  }
  for (double& w : worst) w /= scale;
  if (scale_out != nullptr) *scale_out = scale;
  return worst;
}

// The worst of position_errors.
double relative_error(ModelImpl& model, const json& reference, double* scale_out = nullptr) {
  const std::vector<double> e = position_errors(model, reference, scale_out);
  return e.empty() ? 0.0 : *std::max_element(e.begin(), e.end());
}

// The q-quantile (0..1) of some values.
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

void write_parity_case(const std::string& root, const FamilyCase& c, ModelImpl& model) {
  const fs::path dir = fs::path(root) / c.name;
  ASSERT_TRUE(save_checkpoint(model, dir.string()).ok());
  json logits = json::array();
  for (const auto& seq : kSequences) {
    at::Tensor l = model.forward(at::tensor(seq, at::kLong).unsqueeze(0)).logits[0].to(at::kDouble);
    std::vector<std::vector<double>> rows;
    for (int64_t t = 0; t < l.size(0); ++t) {
      rows.emplace_back(l[t].data_ptr<double>(), l[t].data_ptr<double>() + l.size(1));
    }
    logits.push_back(rows);
  }
  std::ofstream(dir / "forge_logits.json") << json{{"ids", kSequences}, {"logits", logits}}.dump();
}

TEST(HfFamilies, EveryFamilyLoadsItsHuggingFaceLayoutAndMatchesTheFloat64Reference) {
  const std::string python = testing::reference_python();
  if (python.empty()) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  test_support::TempDir tmp("forge_families");
  const fs::path dir = tmp.path();
  std::ofstream(dir / "ids.json") << json(kSequences).dump();
  json specs = json::array();
  for (const FamilyCase& c : kCases) {
    specs.push_back({{"config", std::string(FORGE_SOURCE_DIR) + "/configs/models/" + c.config},
                     {"overrides", json::parse(c.overrides)},
                     {"out", (dir / c.name).string()},
                     {"seed", 7},
                     {"storage", c.storage},
                     {"shards", c.shards},
                     {"ids", (dir / "ids.json").string()},
                     {"logits", (dir / (std::string(c.name) + ".logits.json")).string()}});
  }
  std::ofstream(dir / "specs.json") << specs.dump();
  const std::string cmd = python + " " + FORGE_SOURCE_DIR +
                          "/tests/policy/hf_write_checkpoint.py --specs " +
                          (dir / "specs.json").string();
  const int status = std::system(cmd.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << python << " has no torch (Debian: python3-torch)";
  }
  ASSERT_EQ(status, 0) << cmd;
  const char* parity = std::getenv("FORGE_PARITY_DIR");

  for (const FamilyCase& c : kCases) {
    SCOPED_TRACE(c.name);
    const std::string ckpt = (dir / c.name).string();
    const json reference = read_json(dir / (std::string(c.name) + ".logits.json"));
    LoadReport report;
    auto model = load_checkpoint(ckpt, json::object(), at::kFloat, &report);
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ(report.tensors, static_cast<int>((*model)->named_tensors().size()));
    EXPECT_EQ(report.shards, c.shards);

    double scale = 0;
    const double err = relative_error(**model, reference, &scale);
    EXPECT_LT(err, 1e-5) << "largest logit " << scale;
    EXPECT_GT(scale, 0.5);  // logits far from zero, so the bound means something
    std::printf("%-17s %-4s x%d: max |forge - float64 reference| / max |reference| = %.2g; %s\n",
                c.name, c.storage, c.shards, err, report.summary().c_str());

    // bf16 parameters: converted on load, within bf16's precision (8 bits of mantissa) at most
    // positions. Routing is discrete: a token whose k-th and (k+1)-th expert scores are closer
    // than bf16's rounding picks another expert (the router itself runs in fp32, its inputs are
    // bf16), and that position and the later ones attending to it move by much more (up to ~0.35
    // here), as they would in any bf16 implementation; so the bound is on the median and the
    // 80th percentile of the positions, not on the worst one. A broken bf16 path moves them all.
    auto bf16 = load_checkpoint(ckpt, json::object(), at::kBFloat16);
    ASSERT_TRUE(bf16.ok()) << bf16.status();
    EXPECT_EQ((*bf16)->dtype(), at::kBFloat16);
    const std::vector<double> bf16_errs = position_errors(**bf16, reference, nullptr);
    const double bf16_median = quantile(bf16_errs, 0.5), bf16_p80 = quantile(bf16_errs, 0.8);
    EXPECT_LT(bf16_median, 3e-2);
    EXPECT_LT(bf16_p80, 5e-2);
    EXPECT_GT(bf16_median, err);
    std::printf("%-17s bf16 parameters: relative error median %.2g, 80th percentile %.2g, worst %.2g\n",
                c.name, bf16_median, bf16_p80, quantile(bf16_errs, 1.0));

    // Saved again: the same names and shapes as the reference wrote (MTP layers and fp8 scales
    // aside: the weights are dequantized) and the family's config, logits unchanged.
    const std::string saved = (dir / (std::string(c.name) + "_saved")).string();
    ASSERT_TRUE(save_checkpoint(**model, saved).ok());
    std::map<std::string, std::vector<int64_t>> want = stored_shapes(ckpt);
    for (auto it = want.begin(); it != want.end();) {
      const bool mtp = it->first.rfind("model.layers.", 0) == 0 &&
                       std::atoi(it->first.c_str() + 13) >= (*model)->config().num_hidden_layers;
      it = (mtp || it->first.find("_scale_inv") != std::string::npos) ? want.erase(it) : ++it;
    }
    EXPECT_EQ(stored_shapes(saved), want);
    const json written = read_json(fs::path(ckpt) / kConfigFile);
    const json resaved = read_json(fs::path(saved) / kConfigFile);
    EXPECT_EQ(resaved["model_type"], written["model_type"]);
    EXPECT_EQ(resaved["architectures"], written["architectures"]);
    for (const auto& item : resaved.items()) {
      if (item.key() == "torch_dtype" || item.key() == "num_nextn_predict_layers") continue;
      if (written.contains(item.key()) && written[item.key()].is_number()) {
        EXPECT_DOUBLE_EQ(item.value().get<double>(), written[item.key()].get<double>()) << item.key();
      } else if (written.contains(item.key()) && item.key() != "rope_scaling") {
        EXPECT_EQ(item.value(), written[item.key()]) << item.key();
      }
    }
    auto reloaded = load_checkpoint(saved);
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_EQ(relative_error(**reloaded, reference), err);
    if (parity != nullptr) write_parity_case(parity, c, **model);
  }
}

}  // namespace
}  // namespace forge::policy
