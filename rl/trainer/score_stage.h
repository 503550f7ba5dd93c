// score, the second stage of a GRPO step: the kept groups' samples become rows (group after group,
// samples in order) with their advantages (trainer.adv_estimator over each group's rewards), the
// log-probs the rollout reported, and the loss mask (trainer.overlong_filter leaves truncated
// completions out of the loss, not out of their group's statistics). Samples whose grading failed
// get no row. The batch-level estimators (reinforce_plus_plus*) whiten over every rank's tokens.
// Thread-safety: a function (every rank calls it).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "rl/config/run_config.h"
#include "rl/dist/collective.h"
#include "rl/grpo/grpo_options.h"
#include "rl/trainer/step_batch.h"

namespace forge::rl {

struct ScoreSettings {
  AdvantageEstimator estimator = AdvantageEstimator::kGrpo;
  double adv_eps = 1e-6;
  bool overlong_filter = false;
  int32_t pad_id = 0;

  static ScoreSettings from_config(const RunConfig& config, int32_t pad_id);
};

absl::StatusOr<ScoredBatch> score(const CollectedBatch& batch, const ScoreSettings& settings,
                                  Collective& collective);

}  // namespace forge::rl
