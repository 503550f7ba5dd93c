// A rule whose real implementation is built on first use: the code rule starts a pool of sandboxed
// workers, which `forge grade` on a math-only file should never pay for. name(), description(),
// range() answer without building it; check() builds it once an item passes the cheap check.
//
// Thread-safe: the first grade() builds the rule exactly once (std::call_once); a build failure is
// remembered and returned by every grade().
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "reward/reward_rule.h"

namespace forge::reward {

struct DeferredRuleSpec {
  std::string name;
  std::string description;
  RewardRange range;
  // RewardRule::check() of the rule (applies_to() follows it); null: every item is fine.
  std::function<absl::Status(const GradeItem&)> check;
  std::function<absl::StatusOr<std::unique_ptr<RewardRule>>()> build;
};

std::unique_ptr<RewardRule> make_deferred_rule(DeferredRuleSpec spec);

}  // namespace forge::reward
