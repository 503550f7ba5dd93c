// The `accuracy` rule: grades an item by whichever rule its reference calls for, so one mix
// (`accuracy: 1.0, format: 0.1`) serves a dataset of math and code prompts alike: items with
// `tests` go to the code rule, items with an `answer` to the math rule.
//
// Thread-safe when the rules it borrows are.
#pragma once

#include <memory>

#include "reward/reward_rule.h"

namespace forge::reward {

// `math` and `code` are borrowed (the registry owns them) and may be null when not available, in
// which case items needing them are FailedPrecondition.
std::unique_ptr<RewardRule> make_accuracy_rule(const RewardRule* math, const RewardRule* code);

}  // namespace forge::reward
