// `forge model-info` and `forge generate` as a user runs them: the real binary on configs/tiny.yaml.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/checkpoint.h"
#include "policy/model_stats.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Result {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

Result run_forge(const std::string& args) {
  const std::string err_file =
      (fs::temp_directory_path() / ("forge_cli_err_" + std::to_string(::getpid()))).string();
  const std::string command = std::string(FORGE_BINARY) + " " + args + " 2>" + err_file;
  Result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove(err_file);
  return r;
}

const std::string kTinyYaml = std::string(FORGE_SOURCE_DIR) + "/configs/tiny.yaml";

// The model tiny.yaml describes: configs/models/tiny.json with 16 routed experts instead of its 8.
ModelConfig tiny_yaml_model() {
  ModelConfig config = testing::tiny_config();
  config.n_routed_experts = 16;
  return config;
}

json generate_json(const std::string& args) {
  Result r = run_forge("generate " + args + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  try {
    return json::parse(r.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "not JSON: " << r.out << "\n" << r.err;
    return json::object();
  }
}

TEST(ForgeCli, ModelInfoPrintsTheTinySizes) {
  Result r = run_forge("model-info --config " + kTinyYaml);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json info = json::parse(r.out);
  const ModelStats stats = model_stats(tiny_yaml_model());
  EXPECT_EQ(info["total_params"], stats.total_params);
  EXPECT_EQ(info["active_params"], stats.active_params);
  EXPECT_EQ(info["kv_cache_bytes_per_token"], 4 * 4 * (32 + 16));  // 4 layers, fp32
  EXPECT_EQ(info["n_routed_experts"], 16);
  EXPECT_EQ(info["kv_lora_rank"], 32);
  EXPECT_GT(info["total_params"].get<int64_t>(), 5'000'000);
  EXPECT_LT(info["total_params"].get<int64_t>(), 7'000'000);
  EXPECT_LT(info["active_params"].get<int64_t>(), 2'000'000);
}

TEST(ForgeCli, ModelInfoNamesABadModelKey) {
  const fs::path yaml = fs::temp_directory_path() / ("forge_bad_model_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(yaml) << "model:\n  config: " << FORGE_SOURCE_DIR
                      << "/configs/models/tiny.json\n  n_group: 3\n";
  Result r = run_forge("model-info --config " + yaml.string());
  fs::remove(yaml);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("n_group"), std::string::npos) << r.err;
}

TEST(ForgeCli, GreedyGenerationIsIdenticalWithAndWithoutTheKvCache) {
  const std::string args = "--config " + kTinyYaml +
                           " --prompt 'What is 17 * 3?' --max-new-tokens 40 --temperature 0";
  json cached = generate_json(args);
  json recomputed = generate_json(args + " --no-kv-cache");
  ASSERT_TRUE(cached.contains("token_ids"));
  EXPECT_EQ(cached["token_ids"], recomputed["token_ids"]);
  EXPECT_EQ(cached["text"], recomputed["text"]);
  EXPECT_GT(cached["token_ids"].size(), 0u);
  // Plain output is the completion text.
  Result plain = run_forge("generate " + args);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(plain.out.empty());
}

TEST(ForgeCli, SeededSamplingRepeatsExactly) {
  const std::string args = "--config " + kTinyYaml +
                           " --prompt 'Hello' --max-new-tokens 32 --temperature 1.0 --top-p 0.9";
  json a = generate_json(args + " --seed 7");
  json b = generate_json(args + " --seed 7");
  json c = generate_json(args + " --seed 8");
  EXPECT_EQ(a["token_ids"], b["token_ids"]);
  EXPECT_EQ(a["logprobs"], b["logprobs"]);
  EXPECT_NE(a["token_ids"], c["token_ids"]);
}

TEST(ForgeCli, GenerateFromACheckpointFolder) {
  // tiny.yaml initialises from run.seed 1: the same weights saved as a checkpoint generate the same.
  const fs::path dir = fs::temp_directory_path() / ("forge_cli_ckpt_" + std::to_string(::getpid()));
  Model model(tiny_yaml_model(), 1);
  ASSERT_TRUE(save_checkpoint(*model, dir.string()).ok());
  const std::string args = " --prompt 'abc' --max-new-tokens 16 --temperature 0";
  json from_config = generate_json("--config " + kTinyYaml + args);
  json from_checkpoint = generate_json("--checkpoint " + dir.string() + args);
  EXPECT_EQ(from_config["token_ids"], from_checkpoint["token_ids"]);
  fs::remove_all(dir);

  Result missing = run_forge("generate --checkpoint " + dir.string() + args);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find(dir.string()), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace forge::policy
