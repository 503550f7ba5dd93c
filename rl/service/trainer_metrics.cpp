#include "rl/service/trainer_metrics.h"

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"

namespace forge::rl {

void register_trainer_metrics(telemetry::Registry& registry, const TrainerStatusBoard& board,
                              const MetricsLog& metrics, const TrainerControl* control) {
  telemetry::Counter& steps =
      registry.counter("forge:trainer_steps_total", "GRPO steps completed.");
  telemetry::Gauge& total = registry.gauge("forge:trainer_total_steps", "trainer.total_steps.");
  telemetry::Gauge& paused =
      registry.gauge("forge:trainer_paused", "1 while rollouts are paused (PauseRollouts).");
  auto counted = std::make_shared<std::atomic<int64_t>>(-1);  // the step the counter shows
  registry.on_scrape([&registry, &board, &metrics, control, &steps, &total, &paused, counted] {
    const TrainerStatusBoard::Snapshot s = board.snapshot();
    total.set(static_cast<double>(s.total_steps));
    paused.set(control != nullptr && control->paused() ? 1 : 0);
    for (const char* state :
         {"starting", "training", "saving", "paused", "stopping", "finished", "failed"}) {
      registry
          .gauge("forge:trainer_state", "1 for the trainer's current state.", {{"state", state}})
          .set(s.state == state ? 1 : 0);
    }
    const std::optional<StepRecord> last = metrics.last();
    if (!last) return;
    for (const auto& [key, value] : last->values) {
      registry
          .gauge(telemetry::metric_name(key),
                 absl::StrCat("metrics.jsonl's ", key, " at the last step."))
          .set(value);
    }
    // The counter starts at the first step seen (a resumed run's) and only moves up.
    int64_t seen = counted->load();
    while (last->step > seen) {
      if (counted->compare_exchange_weak(seen, last->step)) {
        steps.inc(static_cast<double>(seen < 0 ? last->step : last->step - seen));
        break;
      }
    }
  });
}

}  // namespace forge::rl
