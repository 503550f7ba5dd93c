// Data-parallel training (rl/dist/) with real processes on this machine, as `forge run --nproc 2`
// and `forge sft --nproc 2` start them (Gloo on the CPU, one thread each):
//  * 2 ranks compute the update 1 rank computes on the same global batch: after 3 GRPO steps from
//    an SFT model (so rewards vary) the parameters and metrics.jsonl agree within 1e-5 (relative,
//    max over tensors / keys); the same for 3 SFT steps;
//  * a ZeRO-1 checkpoint saved by 2 ranks at step 2 resumes on 1 rank to step 4 as the straight
//    1-rank run;
//  * a rank killed with SIGKILL mid-run stops the job with a message naming it, and nothing is left
//    running; a rank started without its peer gives up after dist.timeout_s naming the rendezvous;
//  * bad launcher variables and configs that differ between ranks fail at start, naming the
//    variable or the key.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "policy/safetensors.h"
#include "tests/common/forge_command.h"
#include "tests/common/forge_process.h"
#include "tests/common/small_model_yaml.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test_support::ForgeProcess;
using test_support::ForgeResult;
using test_support::processes_with;
using test_support::read_jsonl;
using test_support::run_forge;
using test_support::small_model_yaml;

constexpr double kTolerance = 1e-5;

// Keys whose values differ between any two runs (timings), or are themselves rounding noise (the
// rollout-vs-trainer log-prob mismatch, ~1e-7, whose batches differ by rank): compared absolutely.
bool timing(const std::string& key) {
  return key.rfind("time", 0) == 0 || key == "wall_time" || key.find("per_s") != std::string::npos;
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(a), 1e-12); }

void expect_same_metrics(const fs::path& a, const fs::path& b, size_t steps) {
  const std::vector<json> x = read_jsonl(a / "metrics.jsonl");
  const std::vector<json> y = read_jsonl(b / "metrics.jsonl");
  ASSERT_EQ(x.size(), steps);
  ASSERT_EQ(y.size(), steps);
  for (size_t i = 0; i < steps; ++i) {
    for (const auto& [key, value] : x[i].items()) {
      if (timing(key)) continue;
      ASSERT_TRUE(y[i].contains(key)) << key;
      const double u = value.get<double>(), v = y[i][key].get<double>();
      if (key == "rollout/logprob_mismatch") {
        EXPECT_NEAR(u, v, kTolerance) << "step " << i + 1 << " " << key;
      } else {
        EXPECT_LE(relative(u, v), kTolerance) << "step " << i + 1 << " " << key << ": " << u
                                              << " vs " << v;
      }
    }
  }
}

// Max over tensors of ||a - b|| / ||a|| (L2). Elementwise, a parameter whose gradient is ~0 can
// differ by up to lr after an Adam step (its update g / (|g| + eps) is sensitive to the rounding
// of g), so the tolerance is on each tensor as a whole.
double max_relative_difference(const std::string& file_a, const std::string& file_b) {
  auto a = policy::SafetensorsReader::open(file_a);
  auto b = policy::SafetensorsReader::open(file_b);
  EXPECT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(b.ok()) << b.status();
  if (!a.ok() || !b.ok()) return 1e9;
  EXPECT_EQ(a->entries().size(), b->entries().size());
  double worst = 0;
  for (const auto& [name, entry] : a->entries()) {
    const at::Tensor x = a->read(name).value().to(at::kDouble);
    auto y = b->read(name);
    EXPECT_TRUE(y.ok()) << name;
    if (!y.ok()) return 1e9;
    const double scale = std::max(x.norm().item<double>(), 1e-12);
    worst = std::max(worst, (x - y->to(at::kDouble)).norm().item<double>() / scale);
  }
  return worst;
}

class DataParallelTest : public ::testing::Test {
 protected:
  // One SFT model (so GRPO's rewards vary) and the data, shared by the suite.
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("forge_dp_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ForgeResult gen = run_forge("data gen --task arithmetic --ops 1 --n 150 --seed 1 --teacher --out " +
                                (dir_ / "train.jsonl").string());
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    std::ofstream(dir_ / "run.yaml")
        << small_model_yaml()
        << "data: {train: train.jsonl}\n"
        << "rollout: {workers: 0, n: 4, max_new_tokens: 24}\n"
        << "reward: {in_process: true, weights: {math: 1.0, format: 0.1}}\n"
        << "trainer: {total_steps: 3, batch_size: 4, lr: 1.0e-3, micro_batch_size: 8,"
        << " samples_per_step: 0, mini_batch_size: 2, ppo_epochs: 2}\n"
        << "sft: {batch_size: 16, lr: 3.0e-3, eval_every: 0, warmup_steps: 2}\n"
        << "dist: {timeout_s: 20, check_every: 1}\n";
    ForgeResult sft = run_forge("sft --config " + config() + " sft.max_steps=60 run.dir=" +
                                (dir_ / "sft").string());
    ASSERT_EQ(sft.exit_code, 0) << sft.output;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string config() { return (dir_ / "run.yaml").string(); }
  static std::string from_sft() { return " model.checkpoint=" + (dir_ / "sft/model").string(); }

  static fs::path dir_;
};
fs::path DataParallelTest::dir_;

TEST_F(DataParallelTest, TwoRanksComputeTheGrpoUpdateOfOne) {
  const fs::path one = dir_ / "grpo1", two = dir_ / "grpo2";
  ForgeResult a = run_forge("run " + config() + from_sft() + " run.dir=" + one.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ForgeResult b = run_forge("run --nproc 2 " + config() + from_sft() + " run.dir=" + two.string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  expect_same_metrics(one, two, 3);
  // Rewards varied within groups, so the steps trained.
  double trained = 0;
  for (const json& row : read_jsonl(one / "metrics.jsonl")) trained += row["grad_norm"].get<double>();
  EXPECT_GT(trained, 0.0);
  EXPECT_LE(max_relative_difference((one / "checkpoints/step-3/model.safetensors").string(),
                                    (two / "checkpoints/step-3/model.safetensors").string()),
            kTolerance);
  // Every rank logged to its own file; rank 0 alone wrote the run's metrics.
  EXPECT_TRUE(fs::exists(two / "logs/rank-0.log"));
  EXPECT_TRUE(fs::exists(two / "logs/rank-1.log"));
}

// trainer.retire_solved over ranks: each rank grades its share of a round, and every rank must
// retire the same prompts, or their next rounds would draw different ones. One sample per prompt
// (a group is solved when its one sample is right), 16 draws from 6 problems, and a model that
// learnt the 6 problems' traces (most of them right).
TEST_F(DataParallelTest, TwoRanksRetireTheSolvedPromptsOfOne) {
  const fs::path one = dir_ / "retire1", two = dir_ / "retire2", data = dir_ / "six.jsonl";
  ForgeResult gen = run_forge("data gen --task arithmetic --ops 1 --n 6 --seed 3 --teacher --out " +
                              data.string());
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  ForgeResult sft = run_forge("sft --config " + config() + from_sft() + " data.train=" +
                              data.string() + " sft.max_steps=40 run.dir=" +
                              (dir_ / "sft6").string());
  ASSERT_EQ(sft.exit_code, 0) << sft.output;
  const std::string grpo = config() + " model.checkpoint=" + (dir_ / "sft6/model").string() +
                           " data.train=" + data.string() +
                           " rollout.n=1 trainer.retire_solved=true trainer.total_steps=4" +
                           " trainer.mini_batch_size=0 run.dir=";
  ForgeResult a = run_forge("run " + grpo + one.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ForgeResult b = run_forge("run --nproc 2 " + grpo + two.string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  expect_same_metrics(one, two, 4);
  const std::vector<json> steps = read_jsonl(one / "metrics.jsonl");
  const double retired = steps.back()["data/retired_total"].get<double>();
  EXPECT_GT(retired, 0.0);
  EXPECT_LT(retired, 6.0);
}

TEST_F(DataParallelTest, TwoRanksComputeTheSftStepsOfOne) {
  const fs::path one = dir_ / "sft1", two = dir_ / "sft2";
  const std::string args = " sft.max_steps=3 sft.lr=1.0e-3 run.dir=";
  ForgeResult a = run_forge("sft --config " + config() + args + one.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ForgeResult b = run_forge("sft --nproc 2 --config " + config() + args + two.string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  expect_same_metrics(one, two, 3);
  EXPECT_LE(max_relative_difference((one / "model/model.safetensors").string(),
                                    (two / "model/model.safetensors").string()),
            kTolerance);
}

TEST_F(DataParallelTest, AZeroOneCheckpointOfTwoRanksResumesOnOneRank) {
  const fs::path straight = dir_ / "straight", resumed = dir_ / "resumed";
  const std::string common = " trainer.total_steps=4 trainer.save_every=2" + from_sft();
  ForgeResult a = run_forge("run " + config() + common + " run.dir=" + straight.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  // 2 ranks with the optimizer state sharded stop after step 2 (its checkpoint holds every shard).
  ForgeResult b = run_forge("run --nproc 2 " + config() + common +
                            " dist.zero=1 trainer.total_steps=2 run.dir=" + resumed.string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  ForgeResult c =
      run_forge("run " + config() + common + " run.dir=" + resumed.string() + " --resume");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("resumed from"), std::string::npos) << c.output;
  expect_same_metrics(straight, resumed, 4);
  EXPECT_LE(max_relative_difference((straight / "checkpoints/step-4/model.safetensors").string(),
                                    (resumed / "checkpoints/step-4/model.safetensors").string()),
            kTolerance);
}

// The pids of the ranks of a run (forge-torch processes whose command names `run_dir`).
std::vector<pid_t> ranks_of(const fs::path& run_dir) {
  std::vector<pid_t> out;
  for (pid_t pid : processes_with("run.dir=" + run_dir.string())) {
    const std::string environ = read_file("/proc/" + std::to_string(pid) + "/environ").value_or("");
    if (environ.find("RANK=") != std::string::npos) out.push_back(pid);
  }
  return out;
}

TEST_F(DataParallelTest, AKilledRankStopsEveryRankNamingIt) {
  const fs::path out = dir_ / "killed";
  ForgeProcess job({"run", "--nproc", "2", config(), "trainer.total_steps=100000",
                    "run.dir=" + out.string()});
  ASSERT_GT(job.pid(), 0);
  // Wait for training to run, then kill rank 1 mid-run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (read_jsonl(out / "metrics.jsonl").size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(read_jsonl(out / "metrics.jsonl").size(), 2u) << job.output();
  pid_t victim = -1;
  for (pid_t pid : ranks_of(out)) {
    const std::string environ = read_file("/proc/" + std::to_string(pid) + "/environ").value_or("");
    if (environ.find(std::string("\0RANK=1\0", 8)) != std::string::npos) victim = pid;
  }
  ASSERT_GT(victim, 0);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const int code = job.wait(std::chrono::seconds(20 + 10));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  EXPECT_NE(code, 0) << job.output();
  EXPECT_LT(seconds, 20 + 10) << job.output();
  EXPECT_NE(job.output().find("rank 1"), std::string::npos) << job.output();
  EXPECT_NE(job.output().find("killed by signal 9"), std::string::npos) << job.output();
  // Nothing of the job is left: ranks, their workers, their reward servers.
  for (int i = 0; i < 50 && !processes_with(out.string()).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(processes_with(out.string()).empty());
}

TEST_F(DataParallelTest, BadLauncherVariablesAreErrorsNamingThem) {
  const std::string run = "run " + config() + " run.dir=" + (dir_ / "bad").string();
  ForgeResult no_rank = run_forge(run, "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29999");
  EXPECT_EQ(no_rank.exit_code, 2) << no_rank.output;
  EXPECT_NE(no_rank.output.find("RANK"), std::string::npos) << no_rank.output;
  ForgeResult out_of_range =
      run_forge(run, "RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29999");
  EXPECT_EQ(out_of_range.exit_code, 2) << out_of_range.output;
  EXPECT_NE(out_of_range.output.find("RANK: 2 is outside [0, 2)"), std::string::npos)
      << out_of_range.output;
  ForgeResult no_port = run_forge(run, "RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1");
  EXPECT_EQ(no_port.exit_code, 2) << no_port.output;
  EXPECT_NE(no_port.output.find("MASTER_PORT"), std::string::npos) << no_port.output;
}

TEST_F(DataParallelTest, ARankWithoutItsPeerGivesUpAfterTheTimeoutNamingTheRendezvous) {
  const auto start = std::chrono::steady_clock::now();
  ForgeResult r = run_forge("run " + config() + " dist.timeout_s=3 run.dir=" +
                                (dir_ / "alone").string(),
                            "RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=1");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("MASTER_ADDR:MASTER_PORT 127.0.0.1:1"), std::string::npos) << r.output;
  EXPECT_LT(seconds, 3 + 10) << r.output;
}

TEST_F(DataParallelTest, RanksWithDifferentConfigsRefuseToStartNamingTheKey) {
  const std::string base = "run " + config() + " run.dir=" + (dir_ / "mismatch").string();
  const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29731 ";
  // Started through the shell so each gets its own environment.
  ForgeResult results[2];
  std::thread other([&] { results[1] = run_forge(base + " trainer.lr=0.5", env + "RANK=1"); });
  results[0] = run_forge(base, env + "RANK=0");
  other.join();
  for (const ForgeResult& r : results) {
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("trainer.lr"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace forge::rl
