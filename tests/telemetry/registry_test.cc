// The Prometheus text format of the registry: exact text for each metric type, escaping, and
// concurrent updates adding up.
#include "telemetry/registry.h"

#include <thread>

#include <gtest/gtest.h>

namespace forge::telemetry {
namespace {

TEST(Registry, RendersCountersGaugesAndHistogramsInTheTextFormat) {
  Registry r;
  r.counter("forge:grades_total", "Graded items.", {{"rule", "math"}, {"verdict", "correct"}})
      .inc(3);
  r.counter("forge:grades_total", "Graded items.", {{"rule", "code"}, {"verdict", "wrong"}}).inc();
  r.gauge("forge:queue_depth", "Items waiting.").set(7);
  Histogram& h = r.histogram("forge:latency_seconds", "Latency.", {0.1, 1.0});
  h.observe(0.05);
  h.observe(0.1);  // the bound itself belongs to its bucket
  h.observe(2.5);
  EXPECT_EQ(r.render(),
            "# HELP forge:grades_total Graded items.\n"
            "# TYPE forge:grades_total counter\n"
            "forge:grades_total{rule=\"math\",verdict=\"correct\"} 3\n"
            "forge:grades_total{rule=\"code\",verdict=\"wrong\"} 1\n"
            "# HELP forge:latency_seconds Latency.\n"
            "# TYPE forge:latency_seconds histogram\n"
            "forge:latency_seconds_bucket{le=\"0.10000000000000001\"} 2\n"
            "forge:latency_seconds_bucket{le=\"1\"} 2\n"
            "forge:latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "forge:latency_seconds_sum 2.6499999999999999\n"
            "forge:latency_seconds_count 3\n"
            "# HELP forge:queue_depth Items waiting.\n"
            "# TYPE forge:queue_depth gauge\n"
            "forge:queue_depth 7\n");
}

TEST(Registry, SameNameAndLabelsIsTheSameMetric) {
  Registry r;
  Counter& a = r.counter("forge:x_total", "x", {{"k", "1"}});
  Counter& b = r.counter("forge:x_total", "x", {{"k", "1"}});
  Counter& c = r.counter("forge:x_total", "x", {{"k", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(Registry, EscapesLabelValuesAndHelp) {
  Registry r;
  r.gauge("forge:g", "line one\nback\\slash", {{"v", "a\"b\\c\nd"}}).set(-1.5);
  EXPECT_EQ(r.render(),
            "# HELP forge:g line one\\nback\\\\slash\n"
            "# TYPE forge:g gauge\n"
            "forge:g{v=\"a\\\"b\\\\c\\nd\"} -1.5\n");
}

TEST(Registry, ScrapeHooksRunBeforeEachRender) {
  Registry r;
  int depth = 4;
  Gauge& g = r.gauge("forge:depth", "d");
  r.on_scrape([&] { g.set(depth); });
  EXPECT_NE(r.render().find("forge:depth 4\n"), std::string::npos);
  depth = 9;
  EXPECT_NE(r.render().find("forge:depth 9\n"), std::string::npos);
}

TEST(Registry, ConcurrentUpdatesAddUp) {
  Registry r;
  Counter& c = r.counter("forge:c_total", "c");
  Gauge& g = r.gauge("forge:g", "g");
  Histogram& h = r.histogram("forge:h", "h", latency_buckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        g.add(0.5);
        h.observe(0.002);
        if (i % 1000 == 0) r.render();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000);
  EXPECT_EQ(g.value(), 20000);
  EXPECT_EQ(h.snapshot().count, 40000u);
  EXPECT_EQ(h.snapshot().cumulative[0], 0u);  // 0.002 > 0.001
  EXPECT_EQ(h.snapshot().cumulative[1], 40000u);
}

TEST(Registry, MetricNameMakesAnyKeyValid) {
  EXPECT_EQ(metric_name("reward/mean"), "forge:reward_mean");
  EXPECT_EQ(metric_name("reward/math/mean"), "forge:reward_math_mean");
  EXPECT_EQ(metric_name("time/rollout"), "forge:time_rollout");
  EXPECT_EQ(metric_name("async/staleness-max"), "forge:async_staleness_max");
}

TEST(Registry, CountersNeverGoDown) {
  Registry r;
  Counter& c = r.counter("forge:c_total", "c");
  c.inc(2);
  c.inc(-5);
  EXPECT_EQ(c.value(), 2);
}

}  // namespace
}  // namespace forge::telemetry
