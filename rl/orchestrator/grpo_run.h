// `forge run`, the whole R1-Zero loop on one machine: writes the resolved config to run.dir,
// loads the policy (and the frozen reference when trainer.kl_coef > 0), the tokenizer and the
// prompts (run_inputs.h), places generation and grading (backends.h: child workers and a reward
// server on loopback, given addresses, or this process), serves TrainerService on
// server.trainer_address and Prometheus metrics on server.metrics_address when set, trains
// (grpo_trainer.h), and stops every child. TrainerService's Stop acts as a first SIGINT;
// SaveCheckpoint and PauseRollouts/ResumeRollouts are served by the loop between steps.
// SIGINT/SIGTERM finish the current step, save a checkpoint and stop the children; a second one
// abandons the step (the children are stopped at once) and saves the last completed one. Nothing
// is left running: children die with forge (PR_SET_PDEATHSIG) even if it is killed.
// Thread-safety: a function; one run per process (it owns the signal handlers while it runs).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "base/logger.h"
#include "proto/security.h"
#include "rl/config/run_config.h"

namespace forge::rl {

struct GrpoRunOptions {
  bool resume = false;      // continue from the newest valid checkpoint in run.dir
  Logger* logger = nullptr; // progress lines and warnings
  net::Security security;   // TrainerService's authentication (rl/config/server_security.h)
};

struct GrpoRunOutcome {
  int64_t steps = 0;         // steps completed (including those of earlier runs when resumed)
  bool interrupted = false;  // stopped by SIGINT/SIGTERM or TrainerService.Stop before
                             // trainer.total_steps
  bool root = true;          // rank 0 of the job (the one that reports)
};

// Errors: InvalidArgument / NotFound for a bad config or input (the message names the key or
// file), others for a run that failed (a dead child is named rather than the RPC it broke).
absl::StatusOr<GrpoRunOutcome> run_grpo(const RunConfig& config, const GrpoRunOptions& options);

}  // namespace forge::rl
