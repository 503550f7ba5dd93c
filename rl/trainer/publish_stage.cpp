#include "rl/trainer/publish_stage.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace forge::rl {

absl::StatusOr<rollout::WeightPublishResult> publish_weights(
    rollout::GenerationBackend& generation, const policy::ModelImpl& policy, int64_t version,
    Logger* logger) {
  ASSIGN_OR_RETURN(rollout::WeightPublishResult published,
                   generation.push_weights(policy.named_tensors(), version));
  if (!published.failed.empty()) {
    log_warning(logger, absl::StrCat("weight update v", version, " missed ",
                                     published.failed.size(), " worker(s): ", published.failed[0]));
  }
  return published;
}

}  // namespace forge::rl
