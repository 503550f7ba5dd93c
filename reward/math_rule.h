// The `math` rule: 1 when the completion's final answer equals the reference answer, else 0. A thin
// wrapper over reward/math/math_grader.h: an item with a `prediction` (an answer already extracted)
// is only normalised and compared; otherwise the answer is extracted from the completion first.
//
// Thread-safe: the math grader is pure.
#pragma once

#include <memory>

#include "reward/reward_config.h"
#include "reward/reward_rule.h"

namespace forge::reward {

// Applies to items with a non-empty `answer`; grading an item without one is InvalidArgument
// naming `answer`.
std::unique_ptr<RewardRule> make_math_rule(const MathRuleOptions& options);

}  // namespace forge::reward
