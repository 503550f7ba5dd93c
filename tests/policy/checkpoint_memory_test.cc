// The loader's memory bound: a ~1 GiB synthetic checkpoint (BF16, sharded, as released models
// ship) loads in a child process whose peak resident memory (wait4's ru_maxrss, everything the
// process holds: LibTorch, the model, mapped file pages) stays within 1.3x the loaded model's
// size: tensors are copied from the mapped files into the parameters a chunk at a time, with no
// second copy and without keeping the file's pages resident.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "policy/checkpoint.h"
#include "policy/safetensors.h"
#include "tests/common/temp_dir.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ProbeResult {
  json out;
  int64_t max_rss_bytes = 0;  // the child's peak, from wait4
};

ProbeResult run_probe(const std::string& dir, const std::string& dtype, const fs::path& out_file) {
  ProbeResult r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::execl(FORGE_LOAD_PROBE, FORGE_LOAD_PROBE, dir.c_str(), dtype.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  EXPECT_EQ(::wait4(pid, &status, 0, &usage), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "probe status " << status;
  r.max_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  std::ifstream in(out_file);
  in >> r.out;
  return r;
}

TEST(CheckpointMemory, PeakResidentMemoryStaysWithin1_3xTheModel) {
  test_support::TempDir tmp("forge_ckpt_memory");
  // R1-Distill-Qwen's family shrunk to 3 layers: ~530 M parameters, 1.06 GB in BF16.
  ModelConfig c = testing::published_config(
      "deepseek-r1-distill-qwen-1.5b.json",
      {{"num_hidden_layers", 3}, {"hidden_size", 2048}, {"intermediate_size", 11264},
       {"num_attention_heads", 16}, {"num_key_value_heads", 4}, {"vocab_size", 65536},
       {"bos_token_id", 0}, {"eos_token_id", 1}});
  Model shapes(c, 0, /*initialise=*/false);  // names and shapes only; storage never touched
  const fs::path dir = tmp.path() / "ckpt";
  fs::create_directories(dir);
  // Shards of <= ~256 MB, each built, written and freed in turn.
  std::vector<std::vector<std::pair<std::string, std::vector<int64_t>>>> shards(1);
  int64_t shard_bytes = 0;
  for (const auto& [name, t] : shapes->named_tensors()) {
    const int64_t bytes = t.numel() * 2;
    if (shard_bytes > 0 && shard_bytes + bytes > (int64_t{256} << 20)) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace_back(name, t.sizes().vec());
    shard_bytes += bytes;
  }
  json weight_map = json::object();
  int64_t file_bytes = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string file = "model-0000" + std::to_string(i + 1) + "-of-0000" +
                             std::to_string(shards.size()) + ".safetensors";
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& [name, shape] : shards[i]) {
      tensors.emplace_back(name, at::rand(shape, at::kFloat).sub_(0.5).mul_(0.04).to(at::kBFloat16));
      weight_map[name] = file;
      file_bytes += tensors.back().second.numel() * 2;
    }
    ASSERT_TRUE(write_safetensors((dir / file).string(), tensors).ok());
  }
  ASSERT_TRUE(write_file_atomic((dir / kIndexFile).string(),
                                json{{"metadata", {{"total_size", file_bytes}}},
                                     {"weight_map", weight_map}}.dump()).ok());
  ASSERT_TRUE(write_file_atomic((dir / kConfigFile).string(), c.to_json().dump()).ok());
  EXPECT_GT(file_bytes, 1e9);

  for (const char* dtype : {"bfloat16", "float32"}) {
    ProbeResult r = run_probe(dir.string(), dtype, tmp.path() / "probe.json");
    const double model_bytes = r.out.value("model_bytes", 0.0);
    const double ratio = r.max_rss_bytes / model_bytes;
    std::printf("%s model %.0f MB from %zu shards: peak RSS %.0f MB = %.3fx the model (%.0f MB "
                "before loading); %s\n",
                dtype, model_bytes / 1e6, shards.size(), r.max_rss_bytes / 1e6, ratio,
                r.out.value("rss_before_bytes", 0.0) / 1e6,
                r.out.value("summary", std::string()).c_str());
    EXPECT_GT(model_bytes, 1e9);
    EXPECT_LE(ratio, 1.3) << dtype;
  }
}

}  // namespace
}  // namespace forge::policy
