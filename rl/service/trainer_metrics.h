// The trainer's Prometheus series (`forge run`'s /metrics), read at each scrape:
//   forge:<key>                 gauge    every metrics.jsonl value of the last step, named by
//                                        telemetry::metric_name ("reward/mean" ->
//                                        forge:reward_mean, "time/rollout" -> forge:time_rollout)
//   forge:trainer_steps_total   counter  steps completed (from the resumed step on a resume)
//   forge:trainer_total_steps   gauge    trainer.total_steps
//   forge:trainer_paused        gauge    1 while PauseRollouts is in force
//   forge:trainer_state{state}  gauge    1 for the current state, 0 for the others
// Thread-safety: the hook it registers is thread-safe; the arguments must outlive the registry's
// renders.
#pragma once

#include "rl/metrics/metrics_log.h"
#include "rl/service/trainer_control.h"
#include "rl/service/trainer_status_board.h"
#include "telemetry/registry.h"

namespace forge::rl {

// `control` may be null.
void register_trainer_metrics(telemetry::Registry& registry, const TrainerStatusBoard& board,
                              const MetricsLog& metrics, const TrainerControl* control);

}  // namespace forge::rl
