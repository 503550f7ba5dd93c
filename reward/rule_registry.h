// The rules a reward stack knows, by name: the built-ins (accuracy, math, countdown, code, format,
// length), configured from a RewardConfig, and the rules of the configured plugins.
//
// Thread-safety: add() is for construction time only; after that, every const method may be called
// from any number of threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "reward/reward_config.h"
#include "reward/reward_rule.h"

namespace forge::reward {

class RuleRegistry {
 public:
  RuleRegistry() = default;
  RuleRegistry(const RuleRegistry&) = delete;
  RuleRegistry& operator=(const RuleRegistry&) = delete;

  // The built-in rules configured by `config`, then one rule per plugin in config.plugins. Errors
  // name the config key (reward.format.pattern, reward.code.wall_seconds, ...) or the plugin file.
  static absl::StatusOr<std::unique_ptr<RuleRegistry>> create(const RewardConfig& config);

  // AlreadyExists naming the rule when its name is taken.
  absl::Status add(std::unique_ptr<RewardRule> rule);

  const RewardRule* find(std::string_view name) const;  // null when unknown
  std::vector<const RewardRule*> rules() const;         // sorted by name
  std::string names() const;                            // "accuracy, format, ..." for messages

 private:
  std::map<std::string, std::unique_ptr<RewardRule>, std::less<>> rules_;
};

// rule.grade() plus the checks every caller wants: the reward is finite and inside rule.range()
// (else Internal naming the rule), and an error's message starts with the rule's name.
absl::StatusOr<RuleResult> grade_checked(const RewardRule& rule, const GradeItem& item,
                                         std::chrono::steady_clock::time_point deadline);

}  // namespace forge::reward
