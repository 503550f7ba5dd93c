// publish, the fourth stage of a GRPO step: the policy's weights become the generator's, as policy
// version `version` (GenerationBackend::push_weights: every rollout worker, or the in-process
// engine). A worker that missed the update is a warning (the pool stops using it until a later
// push reaches it); no worker taking it is an error.
// Thread-safety: a function; must not overlap generation.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "base/logger.h"
#include "policy/model.h"
#include "rollout/generation_backend.h"

namespace forge::rl {

absl::StatusOr<rollout::WeightPublishResult> publish_weights(
    rollout::GenerationBackend& generation, const policy::ModelImpl& policy, int64_t version,
    Logger* logger);

}  // namespace forge::rl
