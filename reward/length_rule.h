// The `length` rule: DAPO's soft overlong punishment (reward/reward_config.h, LengthOptions). The
// length is GradeItem::completion_tokens when it is >= 0, else the completion's UTF-8 byte count
// divided by bytes_per_token (exact for the byte tokenizer). Rewards lie in [-1, 0].
//
// Thread-safe: stateless.
#pragma once

#include <memory>

#include "reward/reward_config.h"
#include "reward/reward_rule.h"

namespace forge::reward {

// DAPO eq. 13 for a completion of `length` tokens (cache_len already resolved, > 0).
double overlong_penalty(double length, int max_len, int cache_len);

// With options.max_len == 0 the rule exists but grading fails with FailedPrecondition naming
// reward.length.max_len.
std::unique_ptr<RewardRule> make_length_rule(const LengthOptions& options);

}  // namespace forge::reward
