// A reward server's Prometheus series (its /metrics):
//   forge:reward_grades_total{rule,verdict}    counter    graded items; rule "" (the configured
//                                                         mix) shows as "mix"; verdict "pass"
//                                                         (reward > 0), "fail" (<= 0) or "error"
//                                                         (could not be graded)
//   forge:reward_errors_total{code}            counter    Grade calls that failed, by status code
//                                                         (RESOURCE_EXHAUSTED: queue full, ...)
//   forge:reward_queue_depth                   gauge      items waiting for a grading thread
//   forge:reward_requests_running              gauge      Grade calls in progress
//   forge:reward_grading_threads               gauge      grading threads
//   forge:reward_sandbox_workers_busy          gauge      code sandboxes running a program
//   forge:reward_request_latency_seconds       histogram  Grade call, received -> answered
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "reward/grader.h"
#include "telemetry/registry.h"

namespace forge::reward {

class RewardMetrics {
 public:
  // Registers the series in `registry`; the gauges are read from `grader` at each scrape.
  RewardMetrics(telemetry::Registry& registry, const Grader& grader);

  // One Grade call: its items and outcomes (same order) when it succeeded, else its status.
  void record(const std::vector<GradeItem>& items, const std::vector<GradeOutcome>& outcomes);
  void record_failure(const absl::Status& status);
  void observe_latency(double seconds) { latency_.observe(seconds); }
  telemetry::Gauge& running() { return running_; }

 private:
  telemetry::Registry& registry_;
  telemetry::Histogram& latency_;
  telemetry::Gauge& running_;
};

}  // namespace forge::reward
