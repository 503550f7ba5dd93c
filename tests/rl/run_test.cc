// `forge run` end to end with real child processes on loopback: a short run writes every DESIGN.md
// metric, checkpoints and TensorBoard events and leaves nothing running; --resume reproduces a
// straight run exactly (CPU); SIGINT saves a checkpoint and stops everything; a crashed child fails
// the run with a message naming it.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/common/forge_command.h"
#include "tests/common/small_model_yaml.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using Result = forge::test_support::ForgeResult;
using forge::test_support::read_jsonl;
using forge::test_support::run_forge;

using forge::test_support::command_line_of;
using forge::test_support::processes_with;
using forge::test_support::small_model_yaml;

const std::vector<std::string>& design_metrics() {
  static const std::vector<std::string> names = {
      "step", "reward/mean", "reward/std", "accuracy", "format_rate", "response_length/mean",
      "response_length/max", "loss", "kl", "clip_fraction", "entropy", "grad_norm", "lr",
      "policy_version", "time/rollout", "time/reward", "time/train", "time/sync", "tokens_per_s",
      "moe/load_imbalance"};
  return names;
}

class RunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("forge_run_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    Result gen = run_forge("data gen --task arithmetic --n 64 --seed 1 --out " +
                           (dir_ / "train.jsonl").string());
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    // A small MoE (every mechanism live) so a step takes a fraction of a second.
    std::ofstream(dir_ / "run.yaml") << small_model_yaml()
                                     << "data: {train: train.jsonl}\n"
                                     << "rollout: {workers: 1, n: 4, max_new_tokens: 24}\n"
                                     << "trainer: {total_steps: 4, batch_size: 4, lr: 1.0e-3,"
                                     << " micro_batch_size: 8}\n";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string config() { return (dir_ / "run.yaml").string(); }
  static fs::path run_dir(const std::string& name) { return dir_ / name; }
  // Starts `forge run` for (practically) ever in the background, its output in dir_/NAME.log,
  // and waits up to 2 minutes for its first metric line. Returns the pid (-1 if fork failed).
  static pid_t start_long_run(const fs::path& out, const std::string& name) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string dir_arg = "run.dir=" + out.string();
      const std::string log = (dir_ / (name + ".log")).string();
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(FORGE_BINARY, FORGE_BINARY, "run", config().c_str(), "trainer.total_steps=100000",
              dir_arg.c_str(), nullptr);
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (pid > 0 && read_jsonl(out / "metrics.jsonl").empty() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pid;
  }

  static fs::path dir_;
};
fs::path RunTest::dir_;

TEST_F(RunTest, FourStepsWriteEveryMetricCheckpointsAndEventsAndLeaveNothingRunning) {
  const fs::path out = run_dir("straight4");
  Result r = run_forge("run " + config() + " trainer.total_steps=4 trainer.save_every=2 run.dir=" +
                       out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<json> rows = read_jsonl(out / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 4u) << r.output;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["step"].get<int>(), int(i) + 1);
    for (const auto& name : design_metrics()) {
      EXPECT_TRUE(rows[i].contains(name)) << "step " << i + 1 << " lacks " << name;
    }
    EXPECT_TRUE(rows[i].contains("reward/format/mean")) << rows[i].dump();
    EXPECT_EQ(rows[i]["policy_version"].get<double>(), double(i + 1));
  }
  EXPECT_TRUE(fs::exists(out / "checkpoints/step-2/model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "checkpoints/step-4/manifest.json"));
  EXPECT_TRUE(fs::exists(out / "config.yaml"));
  EXPECT_FALSE(read_jsonl(out / "samples.jsonl").empty());
  bool events = false;
  for (const auto& e : fs::directory_iterator(out)) {
    events |= e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  EXPECT_TRUE(events);
  EXPECT_TRUE(processes_with(out.string()).empty());
  // The checkpoint is a model folder `forge generate` can load.
  Result g = run_forge("generate --checkpoint " + (out / "checkpoints/step-4").string() +
                       " --prompt 1+2= --max-new-tokens 4 --temperature 0 --seed 1");
  EXPECT_EQ(g.exit_code, 0) << g.output;
}

TEST_F(RunTest, ResumeReproducesTheStraightRun) {
  const fs::path straight = run_dir("straight");
  const fs::path resumed = run_dir("resumed");
  Result a = run_forge("run " + config() + " trainer.total_steps=4 run.dir=" + straight.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  Result b1 = run_forge("run " + config() + " trainer.total_steps=2 run.dir=" + resumed.string());
  ASSERT_EQ(b1.exit_code, 0) << b1.output;
  Result b2 = run_forge("run " + config() + " trainer.total_steps=4 run.dir=" + resumed.string() +
                        " --resume");
  ASSERT_EQ(b2.exit_code, 0) << b2.output;
  EXPECT_NE(b2.output.find("resumed from"), std::string::npos) << b2.output;
  const std::vector<json> x = read_jsonl(straight / "metrics.jsonl");
  const std::vector<json> y = read_jsonl(resumed / "metrics.jsonl");
  ASSERT_EQ(x.size(), 4u);
  ASSERT_EQ(y.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    for (const auto& [key, value] : x[i].items()) {
      if (key.rfind("time/", 0) == 0 || key.find("per_s") != std::string::npos ||
          key == "wall_time") {
        continue;
      }
      ASSERT_TRUE(y[i].contains(key)) << key;
      EXPECT_EQ(value, y[i][key]) << "step " << i + 1 << " " << key;
    }
  }
}

TEST_F(RunTest, SigintSavesACheckpointAndStopsEverything) {
  const fs::path out = run_dir("interrupted");
  const pid_t pid = start_long_run(out, "interrupted");
  ASSERT_GE(pid, 0);
  ASSERT_FALSE(read_jsonl(out / "metrics.jsonl").empty());
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const size_t steps = read_jsonl(out / "metrics.jsonl").size();
  EXPECT_TRUE(fs::exists(out / ("checkpoints/step-" + std::to_string(steps)) / "manifest.json"))
      << "steps " << steps;
  EXPECT_TRUE(processes_with(out.string()).empty());
}

TEST_F(RunTest, ACrashedChildFailsTheRunNamingIt) {
  const fs::path out = run_dir("crashed");
  const pid_t pid = start_long_run(out, "crashed");
  ASSERT_GE(pid, 0);
  // Kill the rollout worker (its command line has rollout-worker and the run's config path).
  for (pid_t child : processes_with(out.string())) {
    if (command_line_of(child).find("rollout-worker") != std::string::npos) ::kill(child, SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  std::ifstream in(dir_ / "crashed.log");
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("rollout-worker-0"), std::string::npos) << log;
  EXPECT_TRUE(processes_with(out.string()).empty());
}

TEST_F(RunTest, ConfigErrorsAreUsageErrorsNamingTheKey) {
  Result r = run_forge("run " + config() + " trainer.totl_steps=3 run.dir=" +
                       run_dir("bad").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("trainer.totl_steps"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(run_dir("bad")));
}

// The README's first command: configs/tiny.yaml names no dataset, so the run generates its
// built-in task (data.generate) and trains on it; only the length of the run is cut here.
TEST(RunDefaults, TinyYamlTrainsOnItsBuiltInTaskWithNoDataArgument) {
  const fs::path out =
      fs::temp_directory_path() / ("forge_run_defaults_" + std::to_string(::getpid()));
  fs::remove_all(out);
  Result r = run_forge(std::string("run ") + FORGE_SOURCE_DIR + "/configs/tiny.yaml run.dir=" +
                       out.string() +
                       " trainer.total_steps=1 trainer.batch_size=2 rollout.n=2"
                       " rollout.max_new_tokens=8 rollout.workers=0 reward.in_process=true");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("generated 4000 arithmetic problems"), std::string::npos) << r.output;
  EXPECT_EQ(read_jsonl(out / "data/train.jsonl").size(), 4000u);
  EXPECT_EQ(read_jsonl(out / "metrics.jsonl").size(), 1u);
  fs::remove_all(out);
}

TEST(RunDefaults, NoDatasetAndNoBuiltInTaskIsAUsageErrorNamingBothKeys) {
  Result r = run_forge(std::string("run ") + FORGE_SOURCE_DIR +
                       "/configs/tiny.yaml 'data.generate.task=\"\"' run.dir=" +
                       (fs::temp_directory_path() / "forge_run_no_data").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data.train"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("data.generate.task"), std::string::npos) << r.output;
}

}  // namespace
