// rollout::Pool over real workers on loopback: prompts spread over workers give the same samples as
// one worker; weight pushes reach every worker; a dead worker's share is retried elsewhere,
// including a real `forge rollout-worker` process killed (SIGKILL) in the middle of the call.
#include "rollout/pool.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "rollout/worker_server.h"
#include "test_util.h"
#include "worker_process.h"

namespace forge::rollout {
namespace {

using testing::kSeedA;
using testing::kSeedB;

std::unique_ptr<RolloutWorker> start_worker(uint64_t seed) {
  auto worker = RolloutWorker::start("127.0.0.1:0", testing::test_engine(seed));
  EXPECT_TRUE(worker.ok()) << worker.status();
  return std::move(worker).value();
}

GenerationRequest sample_request(int prompts, int n, int max_new_tokens, uint64_t seed) {
  GenerationRequest r;
  r.prompts = testing::test_prompts(prompts);
  r.sampling.n = n;
  r.sampling.max_new_tokens = max_new_tokens;
  r.sampling.seed = seed;
  return r;
}

void expect_same_tokens(const std::vector<Completion>& x, const std::vector<Completion>& y) {
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].prompt_index, y[i].prompt_index);
    EXPECT_EQ(x[i].sample_index, y[i].sample_index);
    EXPECT_EQ(x[i].token_ids, y[i].token_ids) << "completion " << i;
    EXPECT_EQ(x[i].policy_version, y[i].policy_version);
  }
}

TEST(PoolTest, SpreadsPromptsOverWorkersWithTheSameSamplesAsOneWorker) {
  auto w1 = start_worker(kSeedA);
  auto w2 = start_worker(kSeedA);
  auto pool = Pool::create({w1->address(), w2->address()});
  ASSERT_TRUE(pool.ok());
  GenerationRequest request = sample_request(5, 2, 8, 12);
  request.first_prompt_index = 10;
  auto spread = (*pool)->generate(request);
  ASSERT_TRUE(spread.ok()) << spread.status();
  EXPECT_EQ(w1->engine().stats().requests_completed, 1);
  EXPECT_EQ(w2->engine().stats().requests_completed, 1);
  auto one = w1->engine().generate(request);
  ASSERT_TRUE(one.ok());
  expect_same_tokens(*spread, *one);
  EXPECT_EQ((*spread)[0].prompt_index, 10);
}

// One address standing for two servers (a dns:/// name of a headless Service resolves the same
// way): generation reaches both through gRPC's round robin, a weight update reaches each.
TEST(PoolTest, AMultiAddressTargetSpreadsRequestsOverEveryServerAndUpdatesEach) {
  auto w1 = start_worker(kSeedA);
  auto w2 = start_worker(kSeedA);
  const std::string target =
      "ipv4:127.0.0.1:" + std::to_string(w1->port()) + ",127.0.0.1:" + std::to_string(w2->port());
  auto pool = Pool::create({target});
  ASSERT_TRUE(pool.ok()) << pool.status();
  policy::Model model_b = testing::test_model(kSeedB);
  auto pushed = (*pool)->push_weights(model_b->named_tensors(), 4);
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(w1->engine().stats().policy_version, 4);
  EXPECT_EQ(w2->engine().stats().policy_version, 4);
  for (int call = 0; call < 3; ++call) {
    auto out = (*pool)->generate(sample_request(4, 1, 4, 5 + call));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->size(), 4u);
  }
  EXPECT_GT(w1->engine().stats().requests_completed, 0);
  EXPECT_GT(w2->engine().stats().requests_completed, 0);
}

// Every shard carries the whole request but its prompts: the routing asked for comes back from
// every worker (as one worker records it), with each token's version.
TEST(PoolTest, ShardsKeepTheRequestsRoutingAndPartialRolloutSettings) {
  auto w1 = start_worker(kSeedA);
  auto w2 = start_worker(kSeedA);
  auto pool = Pool::create({w1->address(), w2->address()});
  ASSERT_TRUE(pool.ok());
  GenerationRequest request = sample_request(4, 2, 6, 9);
  request.return_routing = true;
  request.partial = PartialRollout::kKeep;
  auto spread = (*pool)->generate(request);
  ASSERT_TRUE(spread.ok()) << spread.status();
  EXPECT_EQ(w1->engine().stats().requests_completed, 1);
  EXPECT_EQ(w2->engine().stats().requests_completed, 1);
  auto one = w1->engine().generate(request);
  ASSERT_TRUE(one.ok());
  expect_same_tokens(*spread, *one);
  for (size_t i = 0; i < spread->size(); ++i) {
    const Completion& c = (*spread)[i];
    EXPECT_GT(c.routing_layers, 0) << i;
    EXPECT_FALSE(c.routed_experts.empty()) << i;
    EXPECT_EQ(c.routed_experts, (*one)[i].routed_experts) << i;
    EXPECT_EQ(c.token_versions, std::vector<int64_t>(c.token_ids.size(), 0)) << i;
  }
}

TEST(PoolTest, PushesWeightsToEveryWorker) {
  auto w1 = start_worker(kSeedA);
  auto w2 = start_worker(kSeedA);
  auto pool = Pool::create({w1->address(), w2->address()});
  ASSERT_TRUE(pool.ok());
  policy::Model model_b = testing::test_model(kSeedB);
  auto pushed = (*pool)->push_weights(model_b->named_tensors(), 5);
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->updated.size(), 2u);
  EXPECT_TRUE(pushed->failed.empty());
  EXPECT_EQ(w1->engine().stats().policy_version, 5);
  EXPECT_EQ(w2->engine().stats().policy_version, 5);
  GenerationRequest request = sample_request(4, 1, 6, 3);
  auto out = (*pool)->generate(request);
  ASSERT_TRUE(out.ok());
  for (const Completion& c : *out) {
    EXPECT_EQ(c.policy_version, 5);
    testing::expect_matches_reference(c, *model_b, request);
  }
}

TEST(PoolTest, ADeadWorkersShareIsRetriedOnAnotherWorker) {
  auto alive = start_worker(kSeedA);
  std::string dead_address;
  {
    auto dead = start_worker(kSeedA);
    dead_address = dead->address();
  }  // shut down: nothing listens there any more
  auto pool = Pool::create({dead_address, alive->address()});
  ASSERT_TRUE(pool.ok());
  GenerationRequest request = sample_request(4, 1, 5, 1);
  auto out = (*pool)->generate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  auto expected = alive->engine().generate(request);
  expect_same_tokens(*out, *expected);
  EXPECT_TRUE((*pool)->workers()[0].down);
  EXPECT_FALSE((*pool)->workers()[1].down);
  // A push that only one worker takes leaves the other stale (excluded) rather than mixing versions.
  auto pushed = (*pool)->push_weights(testing::test_model(kSeedB)->named_tensors(), 2);
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->failed.size(), 1u);
  EXPECT_TRUE((*pool)->workers()[0].stale);
  auto after = (*pool)->generate(request);
  ASSERT_TRUE(after.ok());
  for (const Completion& c : *after) EXPECT_EQ(c.policy_version, 2);
}

TEST(PoolTest, RequestErrorsAreNotRetried) {
  auto w1 = start_worker(kSeedA);
  auto w2 = start_worker(kSeedA);
  auto pool = Pool::create({w1->address(), w2->address()});
  GenerationRequest request = sample_request(2, 1, 5, 1);
  request.sampling.top_p = 2;
  auto out = (*pool)->generate(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("sampling.top_p"), std::string::npos) << out.status();
  EXPECT_FALSE((*pool)->workers()[0].down);
}

std::string write_config(uint64_t seed) {
  const std::string path = ::testing::TempDir() + "/rollout_pool_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << testing::worker_config_yaml(seed);
  return path;
}

TEST(PoolTest, KillingOneOfTwoWorkerProcessesMidRequestStillCompletesTheCall) {
  const std::string config = write_config(kSeedA);
  std::string out1, out2;
  auto p1 = testing::WorkerProcess::start({"--listen", "127.0.0.1:0", "--config", config}, &out1);
  ASSERT_NE(p1, nullptr) << out1;
  auto p2 = testing::WorkerProcess::start({"--listen", "127.0.0.1:0", "--config", config}, &out2);
  ASSERT_NE(p2, nullptr) << out2;
  auto pool = Pool::create({p1->address(), p2->address()});
  ASSERT_TRUE(pool.ok());

  GenerationRequest request = sample_request(6, 2, 120, 77);
  absl::StatusOr<std::vector<Completion>> result;
  std::thread call([&] { result = (*pool)->generate(request); });
  // Kill worker 2 once it is decoding its share.
  Client probe(p2->address());
  bool busy = false;
  for (int i = 0; i < 2000 && !busy; ++i) {
    auto info = probe.info(std::chrono::seconds(2));
    busy = info.ok() && info->active_sequences > 0;
    if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(busy);
  p2->signal(SIGKILL);
  call.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE((*pool)->workers()[1].down);

  // Every sample is there and is what a single in-process engine with the same weights gives.
  auto engine = testing::test_engine(kSeedA);
  auto expected = engine->generate(request);
  ASSERT_TRUE(expected.ok());
  expect_same_tokens(*result, *expected);
}

}  // namespace
}  // namespace forge::rollout
