// forge top's screen from plain values: step, ETA, reward and accuracy with sparklines, the time
// split and the workers; ASCII only when not on a terminal.
#include "rl/cli/top_screen.h"

#include <gtest/gtest.h>

namespace forge::rl::cli {
namespace {

TopSnapshot snapshot() {
  TopSnapshot s;
  s.address = "127.0.0.1:5000";
  s.state = "training";
  s.step = 3;
  s.total_steps = 13;
  s.policy_version = 3;
  s.elapsed_s = 75;
  for (int step = 1; step <= 3; ++step) {
    s.history[step] = {
        {"reward/mean", 0.25 * step}, {"accuracy", 0.125 * step},     {"time/step", 2.0},
        {"time/rollout", 1.5},        {"time/reward", 0.1},           {"time/train", 0.3},
        {"time/sync", 0.1},           {"response_length/mean", 40.5}, {"response_length/max", 64}};
  }
  s.workers = {{"unix:/tmp/w0.sock", "rollout", true, 3, 12, 4, 0.25, ""},
               {"127.0.0.1:6000", "reward", false, 0, 0, 0, 0, "connection refused"}};
  return s;
}

TEST(TopScreen, ShowsStepEtaRewardTimeSplitAndWorkers) {
  const std::string screen = render_top(snapshot(), 100, false);
  EXPECT_NE(screen.find("state training"), std::string::npos) << screen;
  EXPECT_NE(screen.find("step 3/13 (23%)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("ETA 20s"), std::string::npos) << screen;  // 10 steps x 2 s
  EXPECT_NE(screen.find("elapsed 1m15s"), std::string::npos) << screen;
  EXPECT_NE(screen.find("reward       0.750   =#"), std::string::npos) << screen;
  EXPECT_NE(screen.find("accuracy     0.375   =#"), std::string::npos) << screen;
  EXPECT_NE(screen.find("rollout 1.50s (75%)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("mean 40.5  max 64"), std::string::npos) << screen;
  EXPECT_NE(screen.find("unix:/tmp/w0.sock"), std::string::npos) << screen;
  EXPECT_NE(screen.find(" 25%"), std::string::npos) << screen;
  EXPECT_NE(screen.find("DOWN   connection refused"), std::string::npos) << screen;
  for (unsigned char c : screen) EXPECT_LT(c, 0x80) << "plain text is ASCII";
}

TEST(TopScreen, SparklinesAndDurations) {
  EXPECT_EQ(sparkline({0, 1, 2, 3, 4, 5, 6, 7}, 8, false), " .:-=+*#");
  EXPECT_EQ(sparkline({0, 1, 2, 3, 4, 5, 6, 7}, 3, false), " =#");  // the last values, rescaled
  EXPECT_EQ(sparkline({1, 1}, 8, false), "--");
  EXPECT_EQ(sparkline({0, 1}, 8, true), "\u2581\u2588");
  EXPECT_EQ(sparkline({}, 8, true), "");
  EXPECT_EQ(duration_text(42), "42s");
  EXPECT_EQ(duration_text(185), "3m05s");
  EXPECT_EQ(duration_text(3720), "1h02m");
  EXPECT_EQ(duration_text(-1), "?");
}

TEST(TopScreen, PausedAndStopRequestedShowInTheState) {
  TopSnapshot s = snapshot();
  s.paused = true;
  EXPECT_NE(render_top(s, 100, false).find("state training (pausing)"), std::string::npos);
  s.state = "paused";
  s.stop_requested = true;
  EXPECT_NE(render_top(s, 100, false).find("state paused (stop requested)"), std::string::npos);
}

}  // namespace
}  // namespace forge::rl::cli
