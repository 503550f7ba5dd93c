// record, the last stage of a GRPO step: the step's metrics (DESIGN.md's names) to the MetricsLog
// (metrics.jsonl, TensorBoard, the TrainerService stream), the first trainer.samples_per_step
// samples to run.dir/samples.jsonl, one progress line to the logger, and a checkpoint every
// trainer.save_every steps (finish() writes the last one). Asynchronous runs add
// async/staleness_{mean,max} and async/importance_weight_mean, and a rollout that recorded routing
// moe/routing_agreement. With several ranks, rank 0 writes the
// metrics, samples and progress line; every rank takes part in a checkpoint (TrainableModel::save).
// Not thread-safe: the training loop calls it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "base/logger.h"
#include "rl/checkpoint/trainable_model.h"
#include "rl/config/run_config.h"
#include "rl/dist/collective.h"
#include "rl/metrics/metrics_log.h"
#include "rl/service/trainer_status_board.h"
#include "rl/trainer/step_batch.h"

namespace forge::rl {

// The step's metrics, from what its stages returned (`update` is all zeros, lr 0 and imbalance 1,
// when no group was kept): the reward metrics and counts over every rank's samples (every rank
// calls it), the timings this rank's.
absl::StatusOr<std::map<std::string, double>> step_metrics(const CollectedBatch& batch,
                                                           const UpdateStats& update,
                                                           double sync_seconds,
                                                           double step_seconds,
                                                           int64_t policy_version,
                                                           Collective& collective);

struct RecordSettings {
  std::string run_dir;
  int samples_per_step = 4;
  int64_t save_every = 0;  // 0: only finish() saves
  int64_t total_steps = 0;
  bool token_versions = false;  // samples.jsonl lines carry every token's policy version (async)

  static RecordSettings from_config(const RunConfig& config);
};

// Prepares run_dir/samples.jsonl for a run: with `keep_through_step` >= 0 (a resumed run) the
// lines of steps up to it stay and later ones (trained again after the resume) go, as does a last
// line cut off by a kill; with -1 the file starts empty (keep_lines_through_step).
absl::Status open_samples_file(const std::string& run_dir, int64_t keep_through_step);

class StepRecorder {
 public:
  // `metrics`: rank 0's (null elsewhere). `board` (optional) shows "saving" while a checkpoint is
  // written.
  StepRecorder(RecordSettings settings, MetricsLog* metrics, TrainableModel& model,
               TrainerStatusBoard* board, Logger* logger);

  // `state` describes the model after this step (what a checkpoint would resume).
  absl::Status record(int64_t step, const CollectedBatch& batch,
                      const std::map<std::string, double>& metrics, const TrainingState& state);

  // The final (or interrupted) state's checkpoint, unless the periodic save of its step wrote it.
  absl::Status finish(const TrainingState& state);

 private:
  bool save_due(int64_t step) const;
  absl::Status write_samples(int64_t step, const CollectedBatch& batch) const;
  absl::Status save(const TrainingState& state);

  const RecordSettings settings_;
  MetricsLog* const metrics_;
  TrainableModel& model_;
  TrainerStatusBoard* const board_;
  Logger* const logger_;
};

}  // namespace forge::rl
