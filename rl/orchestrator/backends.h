// Where a stage's generation and grading run, as the run config places them:
//   generation  rollout.addresses         -> a Pool over those workers (health-checked)
//               rollout.workers N > 0     -> a Pool over N `forge rollout-worker` children
//               rollout.workers 0         -> an in-process engine (LocalGeneration) over its own
//                                            copy of the policy, sized by the rollout section
//   grading     reward.in_process: true   -> the in-process Grader
//               reward.address            -> a RewardClient of that server (health-checked)
//               otherwise                 -> a RewardClient of a `forge reward-server` child
// Children are started by the Supervisor (stopped on exit and on SIGINT/SIGTERM) and read the
// resolved config run.dir/config.yaml. The Pool takes rollout.timeout_s, max_attempts and
// weight_chunk_mb.
// Thread-safety: functions; the Supervisor is thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/tokenizer.h"
#include "reward/grading_backend.h"
#include "rl/config/run_config.h"
#include "rl/orchestrator/rollout_workers.h"
#include "rl/orchestrator/supervisor.h"
#include "rl/service/trainer_status_board.h"
#include "rollout/engine.h"
#include "rollout/generation_backend.h"

namespace forge::rl {

inline constexpr auto kChildHealthTimeout = std::chrono::seconds(120);

struct StartedGeneration {
  std::unique_ptr<rollout::GenerationBackend> generation;
  std::vector<WorkerAddress> workers;  // the workers it talks to (none in process)
};

// The engine sizes of the rollout section (a worker's, or the in-process engine's).
rollout::EngineOptions engine_options(const RolloutSection& rollout);

// Generation for `config`'s policy. `workers` says how many children to start (and under which
// key) when no addresses are given; 0 = in process, with `model` as the engine's policy (its
// weights are replaced by the first push_weights).
absl::StatusOr<StartedGeneration> start_generation(Supervisor& supervisor, const RunConfig& config,
                                         const RolloutWorkersSpec& workers,
                                         const ModelSection& model,
                                         std::shared_ptr<const policy::Tokenizer> tokenizer);

struct StartedGrading {
  std::unique_ptr<reward::GradingBackend> grading;
  std::vector<WorkerAddress> workers;  // the reward server (none in process)
};

absl::StatusOr<StartedGrading> start_grading(Supervisor& supervisor, const RunConfig& config);

}  // namespace forge::rl
