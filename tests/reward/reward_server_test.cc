// The reward server on loopback, through the client the trainer uses and a raw stub: batches,
// INVALID_ARGUMENT naming the item's field, RESOURCE_EXHAUSTED past the queue limit, deadlines,
// ListRules, health, and surviving misbehaving rules.
#include "reward/reward_server.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "forge/v1/reward.grpc.pb.h"
#include "proto/grpc_util.h"
#include "reward/reward_client.h"
#include "test_rules.h"

namespace forge::reward {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

GradeItem item_for(const std::string& rule, const std::string& id,
                   const std::string& completion = "<think>t</think><answer>\\boxed{4}</answer>",
                   const std::string& answer = "4") {
  GradeItem item;
  item.id = id;
  item.rule = rule;
  item.completion = completion;
  item.answer = answer;
  return item;
}

class RewardServerTest : public ::testing::Test {
 protected:
  void start(RewardConfig config) {
    gate_ = std::make_shared<testing::Gate>();
    auto server = RewardServer::start("127.0.0.1:0", testing::make_test_grader(config, gate_));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<RewardClient>(address_);
  }
  void TearDown() override {
    if (gate_) gate_->release();
  }

  std::shared_ptr<testing::Gate> gate_;
  std::unique_ptr<RewardServer> server_;
  std::string address_;
  std::unique_ptr<RewardClient> client_;
};

TEST_F(RewardServerTest, GradesABatchInOrderWithComponents) {
  RewardConfig config;
  config.concurrency = 4;
  start(config);
  std::vector<GradeItem> items;
  for (int i = 0; i < 64; ++i) {
    items.push_back(item_for(i % 4 == 0 ? "format" : "", "item-" + std::to_string(i),
                             "<think>t</think><answer>\\boxed{" + std::to_string(i % 3) +
                                 "}</answer>",
                             "1"));
  }
  auto results = client_->grade(items);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 64u);
  for (int i = 0; i < 64; ++i) {
    const GradeOutcome& r = (*results)[i];
    EXPECT_EQ(r.id, "item-" + std::to_string(i));
    EXPECT_TRUE(r.error.empty()) << r.error;
    if (i % 4 == 0) {
      EXPECT_EQ(r.reward, 1.0);
      EXPECT_EQ(r.components.size(), 1u);
    } else {
      EXPECT_DOUBLE_EQ(r.reward, (i % 3 == 1 ? 1.0 : 0.0) + 0.1) << r.detail;
      EXPECT_EQ(r.components.at("format"), 1.0);
      EXPECT_EQ(r.components.at("math"), i % 3 == 1 ? 1.0 : 0.0);
    }
  }
  auto empty = client_->grade({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(RewardServerTest, BadItemsAreInvalidArgumentNamingTheField) {
  start(RewardConfig{});
  std::vector<GradeItem> items = {item_for("math", "a"), item_for("format", "b"),
                                  item_for("format", "c"), item_for("mth", "d")};
  auto unknown = client_->grade(items);
  ASSERT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("items[3].rule: unknown rule 'mth' (known: "),
            std::string::npos)
      << unknown.status();

  items[3] = item_for("math", "d", "\\boxed{4}", "");
  auto no_answer = client_->grade(items);
  ASSERT_EQ(no_answer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_answer.status().message().find(
                "items[3].answer: the math rule needs a reference answer"),
            std::string::npos)
      << no_answer.status();

  // Through a raw stub: malformed tests JSON and a bad item_timeout_s.
  auto stub = forge::v1::RewardService::NewStub(net::make_channel(address_));
  forge::v1::GradeRequest request;
  auto* item = request.add_items();
  item->set_rule("code");
  item->set_completion("print(1)");
  item->set_tests("{\"kind\": ");
  grpc::ClientContext context;
  forge::v1::GradeResponse response;
  grpc::Status status = stub->Grade(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "items[0].tests: not valid JSON");

  forge::v1::GradeRequest negative;
  negative.set_item_timeout_s(-1);
  grpc::ClientContext context2;
  status = stub->Grade(&context2, negative, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("item_timeout_s:", 0), 0u) << status.error_message();
}

TEST_F(RewardServerTest, PastTheQueueLimitIsResourceExhausted) {
  RewardConfig config;
  config.concurrency = 1;
  config.queue_limit = 2;
  start(config);
  GradeCallOptions no_retry;
  no_retry.retry_when_busy = false;
  // One item occupies the only grading thread, two more fill the queue.
  auto running = std::async(std::launch::async, [&] {
    return client_->grade({item_for("gate", "running")}, no_retry);
  });
  ASSERT_TRUE(gate_->wait_entered(1));
  auto queued = std::async(std::launch::async, [&] {
    return client_->grade({item_for("gate", "q1"), item_for("gate", "q2")}, no_retry);
  });
  for (int i = 0; i < 200 && server_->grader().pool().queued() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ(server_->grader().pool().queued(), 2);

  auto refused = client_->grade({item_for("format", "one-more")}, no_retry);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("reward.queue_limit 2"), std::string::npos)
      << refused.status();

  // With retries, the same call succeeds once the gate opens and the queue drains.
  auto retried = std::async(std::launch::async, [&] {
    return client_->grade({item_for("format", "one-more")});
  });
  std::this_thread::sleep_for(milliseconds(100));
  gate_->release();
  ASSERT_TRUE(running.get().ok());
  auto q = queued.get();
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ((*q)[1].reward, 1.0);
  auto r = retried.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].reward, 1.0);
}

TEST_F(RewardServerTest, CallDeadlineIsHonouredAndTheServerStaysUp) {
  RewardConfig config;
  config.concurrency = 1;
  start(config);
  GradeCallOptions short_call;
  short_call.timeout = milliseconds(300);
  const auto begin = Clock::now();
  auto late = client_->grade({item_for("gate", "slow"), item_for("gate", "slower")}, short_call);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - begin).count(), 2.0);

  // The abandoned item stops at the call's deadline, the skipped one never runs, and the next call
  // is served at once.
  auto next = client_->grade({item_for("format", "next")});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ((*next)[0].reward, 1.0);
}

TEST_F(RewardServerTest, PerItemDeadlineAndMisbehavingRulesGivePerItemErrors) {
  RewardConfig config;
  config.concurrency = 2;
  start(config);
  GradeCallOptions options;
  options.item_timeout_s = 0.2;
  auto results = client_->grade(
      {item_for("gate", "g"), item_for("thrower", "t"), item_for("too_big", "b"),
       item_for("stubborn", "s"), item_for("format", "f")},
      options);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_NE((*results)[0].error.find("gate: still closed at the deadline"), std::string::npos);
  EXPECT_NE((*results)[1].error.find("boom"), std::string::npos) << (*results)[1].error;
  EXPECT_NE((*results)[2].error.find("outside its range"), std::string::npos);
  EXPECT_NE((*results)[3].error.find("did not return within"), std::string::npos)
      << (*results)[3].error;
  EXPECT_TRUE((*results)[4].error.empty());
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*results)[i].reward, 0.0);
  // Each error comes back with its code, per item: not a wrong answer.
  EXPECT_EQ((*results)[0].error_code, kErrorTimeout);
  EXPECT_EQ((*results)[1].error_code, kErrorRuleFailed);
  EXPECT_EQ((*results)[2].error_code, kErrorRuleFailed);
  EXPECT_EQ((*results)[3].error_code, kErrorTimeout);
  EXPECT_TRUE((*results)[4].error_code.empty());
  EXPECT_TRUE(net::check_health(address_, milliseconds(2000)).ok());
}

TEST_F(RewardServerTest, ListRulesAndHealth) {
  RewardConfig config;
  config.weights = {{"math", 1.0}, {"format", 0.25}};
  start(config);
  auto rules = client_->list_rules();
  ASSERT_TRUE(rules.ok()) << rules.status();
  std::map<std::string, RuleInfo> by_name;
  for (const RuleInfo& r : *rules) by_name[r.name] = r;
  for (const char* name : {"accuracy", "code", "format", "length", "math", "gate"}) {
    EXPECT_EQ(by_name.count(name), 1u) << name;
  }
  EXPECT_EQ(by_name["math"].weight, 1.0);
  EXPECT_EQ(by_name["format"].weight, 0.25);
  EXPECT_EQ(by_name["length"].weight, 0.0);
  EXPECT_EQ(by_name["length"].range.min, -1.0);
  EXPECT_FALSE(by_name["math"].description.empty());

  EXPECT_TRUE(net::check_health(address_, milliseconds(2000)).ok());
  EXPECT_TRUE(net::check_health(address_, milliseconds(2000),
                                forge::v1::RewardService::service_full_name())
                  .ok());
}

TEST_F(RewardServerTest, ShutdownCancelsRunningCalls) {
  RewardConfig config;
  config.concurrency = 1;
  start(config);
  auto pending = std::async(std::launch::async, [&] {
    return client_->grade({item_for("gate", "forever")});
  });
  ASSERT_TRUE(gate_->wait_entered(1));
  const auto begin = Clock::now();
  server_->shutdown(milliseconds(100));
  server_->wait();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - begin).count(), 2.0);
  EXPECT_FALSE(pending.get().ok());
  EXPECT_FALSE(net::check_health(address_, milliseconds(300)).ok());
}

TEST(RewardServerStart, BadAddressIsAnError) {
  auto server = RewardServer::start("256.1.1.1:99999", RewardConfig{});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("256.1.1.1:99999"), std::string::npos)
      << server.status();
}

}  // namespace
}  // namespace forge::reward
