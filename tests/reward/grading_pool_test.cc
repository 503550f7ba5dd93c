// The grading pool and batches: bounded queue, per-item deadlines, overrunning rules written off
// and replaced, cancellation, order of results.
#include "reward/grading_pool.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "reward/grader.h"
#include "test_rules.h"

namespace forge::reward {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

GradeItem item_for(const std::string& rule, const std::string& id) {
  GradeItem item;
  item.id = id;
  item.rule = rule;
  item.completion = "<think>t</think><answer>4</answer>";
  item.answer = "4";
  return item;
}

TEST(GradingPool, QueueLimitIsAllOrNothing) {
  GradingPool pool(1, 3);
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  auto blocker = [&](bool run) {
    while (run && !release) std::this_thread::sleep_for(milliseconds(1));
    ++ran;
  };
  ASSERT_TRUE(pool.submit({{blocker, 10}}).ok());
  for (int i = 0; i < 100 && pool.queued() > 0; ++i) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_TRUE(pool.submit({{blocker, 10}, {blocker, 10}}).ok());
  absl::Status full = pool.submit({{blocker, 10}, {blocker, 10}});
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("reward.queue_limit 3"), std::string::npos) << full;
  EXPECT_EQ(pool.queued(), 2);  // the refused batch added nothing
  release = true;
  for (int i = 0; i < 200 && ran < 3; ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(ran, 3);
}

TEST(GradingPool, DestroyingCancelsWaitingTasks) {
  std::atomic<int> ran{0}, cancelled{0};
  std::atomic<bool> release{false};
  {
    GradingPool pool(1, 10);
    auto task = [&](bool run) {
      if (!run) {
        ++cancelled;
        return;
      }
      while (!release) std::this_thread::sleep_for(milliseconds(1));
      ++ran;
    };
    ASSERT_TRUE(pool.submit({{task, 10}, {task, 10}, {task, 10}}).ok());
    for (int i = 0; i < 100 && pool.queued() > 2; ++i) std::this_thread::sleep_for(milliseconds(5));
    std::thread([&] {
      std::this_thread::sleep_for(milliseconds(50));
      release = true;
    }).detach();
  }
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(cancelled, 2);
}

TEST(GradingPool, AStuckThreadIsReplaced) {
  GradingPool pool(1, 10);
  std::atomic<bool> release{false};
  std::atomic<int> quick{0};
  // Allowed 0 s (+ kStuckGrace): written off after ~2 s, then the quick task runs on a new thread.
  ASSERT_TRUE(pool.submit({{[&](bool) {
                              while (!release) std::this_thread::sleep_for(milliseconds(5));
                            },
                            0.0}})
                  .ok());
  ASSERT_TRUE(pool.submit({{[&](bool run) { quick += run; }, 1.0}}).ok());
  const auto start = Clock::now();
  for (int i = 0; i < 400 && quick == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(quick, 1);
  EXPECT_EQ(pool.stuck(), 1);
  EXPECT_LT(seconds_since(start), 3.5);
  release = true;
  for (int i = 0; i < 100 && pool.stuck() > 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(pool.stuck(), 0);
}

TEST(GradeBatch, ResultsKeepTheOrderOfTheItems) {
  RewardConfig config;
  config.concurrency = 4;
  auto grader = Grader::create(config);
  ASSERT_TRUE(grader.ok()) << grader.status();
  std::vector<GradeItem> items;
  for (int i = 0; i < 40; ++i) {
    GradeItem item = item_for(i % 2 ? "format" : "math", std::to_string(i));
    if (i % 3 == 0) item.completion = "no format, answer \\boxed{5}";
    items.push_back(item);
  }
  auto outcomes = (*grader)->grade_batch(items, BatchOptions{});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), items.size());
  for (int i = 0; i < 40; ++i) {
    const GradeOutcome& out = (*outcomes)[i];
    EXPECT_EQ(out.id, std::to_string(i));
    EXPECT_TRUE(out.error.empty()) << out.error;
    EXPECT_EQ(out.reward, i % 3 == 0 ? 0.0 : 1.0) << i << ": " << out.detail;
  }
}

TEST(GradeBatch, ItemDeadlineCountsFromItsStart) {
  RewardConfig config;
  config.concurrency = 2;
  auto gate = std::make_shared<testing::Gate>();
  auto grader = testing::make_test_grader(config, gate);
  BatchOptions options;
  options.item_timeout_s = 0.2;
  const auto start = Clock::now();
  auto outcomes = grader->grade_batch({item_for("gate", "a"), item_for("format", "b")}, options);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_LT(seconds_since(start), 2.0);
  EXPECT_NE((*outcomes)[0].error.find("gate: still closed at the deadline"), std::string::npos)
      << (*outcomes)[0].error;
  EXPECT_EQ((*outcomes)[0].reward, 0.0);
  EXPECT_TRUE((*outcomes)[1].error.empty());
  EXPECT_EQ((*outcomes)[1].reward, 1.0);
}

TEST(GradeBatch, ARuleThatIgnoresItsDeadlineIsGivenUpOn) {
  RewardConfig config;
  config.concurrency = 1;
  auto grader = testing::make_test_grader(config, std::make_shared<testing::Gate>());
  BatchOptions options;
  options.item_timeout_s = 0.1;
  const auto start = Clock::now();
  auto outcomes = grader->grade_batch({item_for("stubborn", "s")}, options);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  // Deadline 0.1 s + 1 s grace, well before the rule's 2.5 s sleep ends.
  EXPECT_LT(seconds_since(start), 2.0);
  EXPECT_NE((*outcomes)[0].error.find("rule 'stubborn' did not return within its 0.1 s deadline"),
            std::string::npos)
      << (*outcomes)[0].error;
}

TEST(GradeBatch, BatchDeadlineAndCancellationStopWaiting) {
  RewardConfig config;
  config.concurrency = 1;
  auto gate = std::make_shared<testing::Gate>();
  auto grader = testing::make_test_grader(config, gate);
  BatchOptions options;
  options.deadline = Clock::now() + milliseconds(200);
  const auto start = Clock::now();
  auto late = grader->grade_batch({item_for("gate", "1"), item_for("gate", "2")}, options);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(seconds_since(start), 1.5);

  std::atomic<bool> cancel{false};
  BatchOptions cancellable;
  cancellable.cancelled = [&] { return cancel.load(); };
  std::thread([&] {
    std::this_thread::sleep_for(milliseconds(150));
    cancel = true;
  }).detach();
  auto cancelled = grader->grade_batch({item_for("gate", "3")}, cancellable);
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled);
  gate->release();
}

TEST(GradeBatch, BadItemsGetErrorsWithoutStoppingTheOthers) {
  auto grader = Grader::create(RewardConfig{});
  ASSERT_TRUE(grader.ok());
  GradeItem unknown = item_for("mth", "u");
  GradeItem no_answer = item_for("math", "n");
  no_answer.answer.clear();
  auto outcomes =
      (*grader)->grade_batch({unknown, item_for("math", "ok"), no_answer}, BatchOptions{});
  ASSERT_TRUE(outcomes.ok());
  EXPECT_NE((*outcomes)[0].error.find("rule: unknown rule 'mth'"), std::string::npos);
  EXPECT_EQ((*outcomes)[1].reward, 1.0);
  EXPECT_NE((*outcomes)[2].error.find("answer: the math rule needs a reference answer"),
            std::string::npos)
      << (*outcomes)[2].error;
}

}  // namespace
}  // namespace forge::reward
