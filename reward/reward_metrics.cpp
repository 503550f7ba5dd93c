#include "reward/reward_metrics.h"

#include "absl/status/status.h"
#include "reward/code/worker_pool.h"

namespace forge::reward {

RewardMetrics::RewardMetrics(telemetry::Registry& registry, const Grader& grader)
    : registry_(registry),
      latency_(registry.histogram("forge:reward_request_latency_seconds",
                                  "Grade calls, received to answered.",
                                  telemetry::latency_buckets())),
      running_(registry.gauge("forge:reward_requests_running", "Grade calls in progress.")) {
  telemetry::Gauge& queue =
      registry.gauge("forge:reward_queue_depth", "Items waiting for a grading thread.");
  telemetry::Gauge& threads = registry.gauge("forge:reward_grading_threads", "Grading threads.");
  telemetry::Gauge& sandboxes =
      registry.gauge("forge:reward_sandbox_workers_busy", "Code sandboxes running a program now.");
  registry.on_scrape([&grader, &queue, &threads, &sandboxes] {
    queue.set(grader.pool().queued());
    threads.set(grader.concurrency());
    sandboxes.set(code::busy_sandbox_workers());
  });
}

void RewardMetrics::record(const std::vector<GradeItem>& items,
                           const std::vector<GradeOutcome>& outcomes) {
  for (size_t i = 0; i < items.size() && i < outcomes.size(); ++i) {
    const std::string& rule = items[i].rule.empty() ? "mix" : items[i].rule;
    const char* verdict = !outcomes[i].error.empty() ? "error"
                          : outcomes[i].reward > 0   ? "pass"
                                                     : "fail";
    registry_
        .counter("forge:reward_grades_total", "Graded items by rule and verdict.",
                 {{"rule", rule}, {"verdict", verdict}})
        .inc();
  }
}

void RewardMetrics::record_failure(const absl::Status& status) {
  registry_
      .counter("forge:reward_errors_total", "Failed Grade calls by status code.",
               {{"code", absl::StatusCodeToString(status.code())}})
      .inc();
}

}  // namespace forge::reward
