// The `format` rule: 1 when the completion has R1's output format, exactly one
// <think>…</think> followed by <answer>…</answer> with nothing but whitespace around them, else 0.
// The pattern and the tags that must be unique are configurable (reward.format, FormatOptions).
//
// Thread-safe: grade() only reads the compiled pattern.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "reward/reward_config.h"
#include "reward/reward_rule.h"

namespace forge::reward {

// InvalidArgument naming reward.format.pattern when the pattern is not valid RE2.
absl::StatusOr<std::unique_ptr<RewardRule>> make_format_rule(const FormatOptions& options);

}  // namespace forge::reward
