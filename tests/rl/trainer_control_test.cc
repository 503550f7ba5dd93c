// TrainerControl between the RPC threads and the loop (a save request answered by the loop's
// save, timeouts, the run ending first), and the trainer's Prometheus series read from the board
// and the metric log.
#include "rl/service/trainer_control.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "rl/service/trainer_metrics.h"
#include "tests/common/http_get.h"
#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

using std::chrono::milliseconds;

TEST(TrainerControl, ASaveRequestIsAnsweredByTheLoopsSave) {
  TrainerControl control;
  EXPECT_FALSE(control.take_save_request());
  auto waiter =
      std::async(std::launch::async, [&] { return control.save_checkpoint(milliseconds(5000)); });
  while (!control.take_save_request()) std::this_thread::sleep_for(milliseconds(1));
  control.saved(int64_t{7});
  absl::StatusOr<int64_t> step = waiter.get();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(*step, 7);
  EXPECT_FALSE(control.take_save_request());  // taken once
}

TEST(TrainerControl, TimeoutAndEndOfRunAreErrors) {
  TrainerControl control;
  EXPECT_EQ(control.save_checkpoint(milliseconds(20)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  auto waiter =
      std::async(std::launch::async, [&] { return control.save_checkpoint(milliseconds(5000)); });
  std::this_thread::sleep_for(milliseconds(20));
  control.close();
  EXPECT_EQ(waiter.get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(control.save_checkpoint(milliseconds(5000)).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(TrainerControl, PauseStopAndWaking) {
  TrainerControl control;
  control.set_paused(true);
  EXPECT_TRUE(control.paused());
  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(50));
    control.request_stop();
  });
  control.wait_for_request(milliseconds(5000));  // the stop wakes it
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(4000));
  stopper.join();
  EXPECT_TRUE(control.stop_requested());
  control.set_paused(false);
  EXPECT_FALSE(control.paused());
}

TEST(TrainerMetrics, EveryMetricsJsonlValueIsAGaugeAndTheStepACounter) {
  test_support::TempDir dir("forge_trainer_metrics");
  auto log = MetricsLog::open(dir.path().string(), -1);
  ASSERT_TRUE(log.ok()) << log.status();
  TrainerStatusBoard board;
  board.update([](auto& s) {
    s.state = "training";
    s.total_steps = 10;
  });
  TrainerControl control;
  telemetry::Registry registry;
  register_trainer_metrics(registry, board, **log, &control);
  EXPECT_EQ(test_support::sample_value(registry.render(), "forge:trainer_steps_total"), 0);

  ASSERT_TRUE((*log)->log(1, {{"reward/mean", 0.25}, {"time/rollout", 1.5}}).ok());
  ASSERT_TRUE((*log)->log(2, {{"reward/mean", 0.5}, {"reward/math/mean", 0.75}}).ok());
  control.set_paused(true);
  const std::string text = registry.render();
  EXPECT_EQ(test_support::sample_value(text, "forge:reward_mean"), 0.5);
  EXPECT_EQ(test_support::sample_value(text, "forge:reward_math_mean"), 0.75);
  EXPECT_EQ(test_support::sample_value(text, "forge:trainer_steps_total"), 2);
  EXPECT_EQ(test_support::sample_value(text, "forge:trainer_total_steps"), 10);
  EXPECT_EQ(test_support::sample_value(text, "forge:trainer_paused"), 1);
  EXPECT_EQ(test_support::sample_value(text, "forge:trainer_state{state=\"training\"}"), 1);
  EXPECT_EQ(test_support::sample_value(text, "forge:trainer_state{state=\"paused\"}"), 0);
  EXPECT_NE(text.find("# TYPE forge:trainer_steps_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE forge:reward_mean gauge"), std::string::npos);
  ASSERT_TRUE((*log)->log(3, {{"reward/mean", 1.0}}).ok());
  EXPECT_EQ(test_support::sample_value(registry.render(), "forge:trainer_steps_total"), 3);
}

}  // namespace
}  // namespace forge::rl
