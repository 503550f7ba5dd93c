// The range checks of a run config that need more than a type (a count > 0, a ratio in [0, 1],
// ...), run by RunConfig::load after reading; the message names the key ("trainer.lr: must be
// >= 0"). Thread-safety: a function.
#pragma once

#include "absl/status/status.h"
#include "rl/config/run_config.h"

namespace forge::rl {

absl::Status check_ranges(const RunConfig& config);

}  // namespace forge::rl
