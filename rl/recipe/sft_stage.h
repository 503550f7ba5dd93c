// The SFT stage as a whole, shared by `forge sft` and the student half of `forge distill`: in
// config.run.dir it opens metrics.jsonl (kept through the resumed step with `resume`), builds the
// model from `model` (initialised from run.seed or loaded from model.checkpoint), resumes from the
// newest valid checkpoint when asked, trains (sft_trainer.h; each rank of a data-parallel job its
// share, rank 0 writing), and writes run.dir/sft.json (rank 0):
//   {"steps", "stop_reason", "best_step", "best_eval_loss", "model", "train_examples",
//    "skipped_too_long", "held_out_examples", "seconds", "steps_per_s", "tokens_per_s"}.
// Thread-safety: functions; set_torch_threads is the caller's.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/logger.h"
#include "rl/config/run_config.h"
#include "rl/dist/collective.h"
#include "rl/data/dataset.h"
#include "rl/recipe/sft_trainer.h"

namespace forge::rl {

struct SftStageInputs {
  const RunConfig* config = nullptr;  // run.dir must exist
  ModelSection model;                 // the model to train
  std::vector<Example> train;         // with completions
  std::vector<Example> held_out;      // with completions; may be empty
  bool resume = false;
  std::function<bool()> stop_requested;
  Logger* logger = nullptr;  // progress lines and warnings; optional
  Collective* collective = nullptr;  // a data-parallel job's ranks (rl/dist/job.h); optional
};

absl::StatusOr<SftOutcome> run_sft_stage(SftStageInputs inputs);

// The examples of `path` that carry a completion. `key` names the config key in errors; with
// `required`, a file without any completion is an error.
absl::StatusOr<std::vector<Example>> load_with_completions(const std::string& path,
                                                           const std::string& key, bool required);

}  // namespace forge::rl
