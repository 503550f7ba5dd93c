// The `countdown` rule: 1 when the expression in the completion's last <answer>...</answer> uses
// exactly the puzzle's numbers and makes its target, else 0 (reward/countdown/countdown.h). The
// item's `answer` states the puzzle, "22 from 3,5,7", as `forge data gen --task countdown` writes
// it.
//
// Thread-safe: the checker is pure.
#pragma once

#include <memory>

#include "reward/reward_rule.h"

namespace forge::reward {

// Applies to items whose `answer` is a countdown puzzle; grading any other item is InvalidArgument
// naming `answer`.
std::unique_ptr<RewardRule> make_countdown_rule();

}  // namespace forge::reward
