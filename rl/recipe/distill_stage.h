// `forge distill` as a whole: rejection sampling of the teacher (distill.teacher, default
// model.checkpoint) on the prompts of distill.data (default data.train) -- through rollout-worker
// children serving the teacher (distill.workers; 0 = an in-process engine; rollout.addresses =
// those workers, which get the teacher's weights pushed), graded in process (or by the server at
// reward.address) --
// writes the accepted responses to run.dir/distill.jsonl (+ distill.json stats), stops the
// workers, then SFTs the dense student (distill.student_config) on them in run.dir, with the
// accepted responses of the last distill.held_out_prompts prompts held out for its plateau stop
// (else data.eval's). With `resume`, an existing distill.jsonl is reused and the student's SFT
// continues from its newest checkpoint.
// SIGINT/SIGTERM stop sampling (Cancelled) or the student's SFT after its current step.
// Thread-safety: a function; one per process (it owns the signal handlers while it runs).
#pragma once

#include "absl/status/statusor.h"
#include "base/logger.h"
#include "rl/config/run_config.h"
#include "rl/recipe/sft_trainer.h"

namespace forge::rl {

// Errors: InvalidArgument naming the key for a bad config (checked before any sampling),
// Cancelled when interrupted while sampling, others for a failed stage.
absl::StatusOr<SftOutcome> run_distill_stage(const RunConfig& config, bool resume,
                                             Logger* logger);

}  // namespace forge::rl
