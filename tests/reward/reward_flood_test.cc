// A reward server flooded on loopback: 10,000 items in 100 concurrent Grade calls against a queue
// of 1,000 while the grading threads are held. The calls past the queue limit are
// RESOURCE_EXHAUSTED; every accepted call gets all its items back, in order, once the threads go;
// and the server's Prometheus counters agree with what the clients saw.
#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "reward/reward_client.h"
#include "reward/reward_server.h"
#include "tests/common/http_get.h"
#include "tests/reward/test_rules.h"

namespace forge::reward {
namespace {

TEST(RewardFlood, PastTheQueueLimitIsRefusedAndNoAcceptedItemIsLost) {
  constexpr int kCalls = 100;
  constexpr int kItemsPerCall = 100;  // 10,000 items
  RewardConfig config;
  config.concurrency = 2;
  config.queue_limit = 1000;
  auto gate = std::make_shared<testing::Gate>();
  auto started = RewardServer::start("127.0.0.1:0", testing::make_test_grader(config, gate));
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<RewardServer> server = std::move(started).value();
  RewardClient client("127.0.0.1:" + std::to_string(server->port()));
  GradeCallOptions no_retry;
  no_retry.retry_when_busy = false;
  no_retry.timeout = std::chrono::seconds(60);

  std::atomic<int> refused{0};
  std::vector<std::future<absl::StatusOr<std::vector<GradeOutcome>>>> calls;
  for (int c = 0; c < kCalls; ++c) {
    calls.push_back(std::async(std::launch::async, [&, c] {
      std::vector<GradeItem> items(kItemsPerCall);
      for (int i = 0; i < kItemsPerCall; ++i) {
        items[i].id = absl::StrCat("c", c, "-", i);
        items[i].rule = "gate";
      }
      auto out = client.grade(items, no_retry);
      if (absl::IsResourceExhausted(out.status())) ++refused;
      return out;
    }));
  }
  // Every call is either refused or holds its items in the server (queued, or on a held thread).
  auto settled = [&] {
    return refused.load() * kItemsPerCall + server->grader().pool().queued() +
               gate->entered.load() ==
           kCalls * kItemsPerCall;
  };
  for (int i = 0; i < 2000 && !settled(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(settled()) << refused.load() << " refused, " << server->grader().pool().queued()
                         << " queued, " << gate->entered.load() << " running";
  EXPECT_LE(server->grader().pool().queued(), config.queue_limit);
  EXPECT_GT(refused.load(), 0);
  gate->release();

  int accepted = 0;
  for (int c = 0; c < kCalls; ++c) {
    auto out = calls[c].get();
    if (absl::IsResourceExhausted(out.status())) {
      EXPECT_NE(out.status().message().find("reward.queue_limit"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(out.ok()) << out.status();
    ++accepted;
    ASSERT_EQ(out->size(), static_cast<size_t>(kItemsPerCall));
    for (int i = 0; i < kItemsPerCall; ++i) {
      EXPECT_EQ((*out)[i].id, absl::StrCat("c", c, "-", i));
      EXPECT_EQ((*out)[i].reward, 1.0);
      EXPECT_EQ((*out)[i].error, "");
    }
  }
  EXPECT_EQ(accepted + refused.load(), kCalls);
  EXPECT_GT(accepted, 0);
  std::cout << "[ flood    ] " << kCalls * kItemsPerCall << " items: " << accepted
            << " calls accepted (" << accepted * kItemsPerCall << " items graded), "
            << refused.load() << " refused with RESOURCE_EXHAUSTED" << std::endl;

  const std::string metrics = server->metrics().render();
  EXPECT_EQ(test_support::sample_value(metrics,
                                       "forge:reward_grades_total{rule=\"gate\",verdict=\"pass\"}"),
            accepted * kItemsPerCall);
  EXPECT_EQ(
      test_support::sample_value(metrics, "forge:reward_errors_total{code=\"RESOURCE_EXHAUSTED\"}"),
      refused.load());
  EXPECT_EQ(test_support::sample_value(metrics, "forge:reward_request_latency_seconds_count"),
            kCalls);
  EXPECT_EQ(test_support::sample_value(metrics, "forge:reward_queue_depth"), 0);
  EXPECT_EQ(test_support::sample_value(metrics, "forge:reward_requests_running"), 0);
}

}  // namespace
}  // namespace forge::reward
