// Asynchronous GRPO's staleness: how many policy versions a trained row's oldest token lags behind
// the weights the trainer holds when it trains on it (async/staleness_mean, async/staleness_max,
// over every rank's rows). The prefetch's admission control (rollout_prefetch.h) keeps it at most
// rollout.max_staleness; a row past the bound is an error (FailedPrecondition naming it), never
// dropped in silence.
// Thread-safety: a function (every rank calls it).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "rl/dist/collective.h"
#include "rl/trainer/step_batch.h"

namespace forge::rl {

struct Staleness {
  double mean = 0;
  double max = 0;
};

// `version`: the weights the trainer holds (the proximal policy's).
absl::StatusOr<Staleness> staleness_of(const ScoredBatch& batch, int64_t version, int bound,
                                       Collective& collective);

}  // namespace forge::rl
