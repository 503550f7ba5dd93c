// `forge rollout-worker` as users run it: a real child process serving on loopback, loading its
// policy from a run config or a checkpoint folder, stopping cleanly on SIGTERM/SIGINT, and refusing
// bad arguments with exit code 2.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "policy/checkpoint.h"
#include "rollout/client.h"
#include "test_util.h"
#include "worker_process.h"

namespace forge::rollout {
namespace {

using testing::kSeedA;
using testing::kSeedB;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/rollout_cli_" + std::to_string(::getpid()) + "_" + name;
}

GenerationRequest sample_request() {
  GenerationRequest r;
  r.prompts = testing::test_prompts(2);
  r.sampling.n = 2;
  r.sampling.max_new_tokens = 8;
  r.sampling.seed = 21;
  return r;
}

TEST(WorkerCliTest, ServesTheConfiguredPolicyAndStopsCleanlyOnSigterm) {
  const std::string config = temp_path("config.yaml");
  std::ofstream(config) << testing::worker_config_yaml(kSeedA);
  std::string output;
  auto worker = testing::WorkerProcess::start(
      {"--listen", "127.0.0.1:0", "--config", config, "rollout.max_batch_size=4"}, &output);
  ASSERT_NE(worker, nullptr) << output;
  EXPECT_NE(output.find("4 cache slots x 512 tokens"), std::string::npos) << output;

  Client client(worker->address());
  GenerationRequest request = sample_request();
  auto remote = client.generate(request);
  ASSERT_TRUE(remote.ok()) << remote.status();
  policy::Model model = testing::test_model(kSeedA);
  for (const Completion& c : *remote) testing::expect_matches_reference(c, *model, request);

  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(&output), 0) << output;
  EXPECT_NE(output.find("SIGTERM, shutting down"), std::string::npos) << output;
  EXPECT_NE(output.find("forge rollout-worker: stopped"), std::string::npos) << output;
}

// base/idle_threads.h: the worker re-executes itself (same pid) so that libgomp and OpenBLAS load
// with passive idle threads; a value the user set is kept.
TEST(WorkerCliTest, ItsComputeThreadsWaitPassivelyUnlessTheUserChoseOtherwise) {
  const std::string config = temp_path("idle_config.yaml");
  std::ofstream(config) << testing::worker_config_yaml(kSeedA);
  ASSERT_EQ(unsetenv("OMP_WAIT_POLICY"), 0);
  ASSERT_EQ(setenv("OPENBLAS_THREAD_TIMEOUT", "5", 1), 0);
  std::string output;
  auto worker =
      testing::WorkerProcess::start({"--listen", "127.0.0.1:0", "--config", config}, &output);
  ASSERT_NE(worker, nullptr) << output;
  std::ifstream in("/proc/" + std::to_string(worker->pid()) + "/environ");
  std::set<std::string> environ;
  for (std::string entry; std::getline(in, entry, '\0');) environ.insert(entry);
  EXPECT_EQ(environ.count("OMP_WAIT_POLICY=PASSIVE"), 1u);
  EXPECT_EQ(environ.count("OPENBLAS_THREAD_TIMEOUT=5"), 1u);
  // It still serves.
  Client client(worker->address());
  EXPECT_TRUE(client.generate(sample_request()).ok());
}

TEST(WorkerCliTest, ServesACheckpointAndStopsOnSigint) {
  const std::string dir = temp_path("ckpt");
  policy::Model model = testing::test_model(kSeedB);
  ASSERT_TRUE(policy::save_checkpoint(*model, dir).ok());
  std::string output;
  auto worker = testing::WorkerProcess::start({"--listen", "127.0.0.1:0", "--checkpoint", dir}, &output);
  ASSERT_NE(worker, nullptr) << output;
  Client client(worker->address());
  GenerationRequest request = sample_request();
  auto remote = client.generate(request);
  ASSERT_TRUE(remote.ok()) << remote.status();
  for (const Completion& c : *remote) testing::expect_matches_reference(c, *model, request);
  worker->signal(SIGINT);
  EXPECT_EQ(worker->wait(&output), 0) << output;
  std::filesystem::remove_all(dir);
}

TEST(WorkerCliTest, BadArgumentsExitWithCode2NamingTheProblem) {
  std::string output;
  EXPECT_EQ(testing::run_forge({"rollout-worker", "--listen", "127.0.0.1:0"}, &output), 2);
  EXPECT_NE(output.find("--config"), std::string::npos) << output;

  const std::string config = temp_path("bad.yaml");
  std::ofstream(config) << testing::worker_config_yaml(kSeedA);
  output.clear();
  EXPECT_EQ(testing::run_forge({"rollout-worker", "--listen", "127.0.0.1:0", "--config", config,
                                "rollout.cache_mb=0"},
                               &output),
            2);
  EXPECT_NE(output.find("rollout.cache_mb"), std::string::npos) << output;
  output.clear();
  EXPECT_EQ(testing::run_forge({"rollout-worker", "--listen", "127.0.0.1:0", "--config", config,
                                "rollout.nonsense=1"},
                               &output),
            2);
  EXPECT_NE(output.find("nonsense"), std::string::npos) << output;
}

}  // namespace
}  // namespace forge::rollout
