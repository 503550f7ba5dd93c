#include "reward/reward_mix.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace forge::reward {

absl::StatusOr<RewardMix> RewardMix::create(const RuleRegistry& registry,
                                            const std::map<std::string, double>& weights) {
  RewardMix mix;
  mix.weights_ = weights;
  for (const auto& [name, weight] : weights) {
    const RewardRule* rule = registry.find(name);
    if (rule == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("reward.weights.", name,
                                                     ": unknown rule (known: ", registry.names(),
                                                     ")"));
    }
    mix.terms_.push_back(Term{rule, weight});
  }
  if (mix.terms_.empty()) {
    return absl::InvalidArgumentError("reward.weights: the mix needs at least one rule");
  }
  return mix;
}

absl::Status RewardMix::check(const GradeItem& item) const {
  for (const Term& term : terms_) {
    if (term.rule->applies_to(item)) return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (const Term& term : terms_) names.push_back(term.rule->name());
  return absl::InvalidArgumentError(absl::StrCat(
      "rule: no rule of the configured mix (", absl::StrJoin(names, ", "),
      ") applies to this item; give it an answer or tests, or name a rule"));
}

absl::StatusOr<MixResult> RewardMix::grade(const GradeItem& item,
                                           std::chrono::steady_clock::time_point deadline) const {
  MixResult out;
  std::vector<std::string> details;
  for (const Term& term : terms_) {
    if (!term.rule->applies_to(item)) continue;
    absl::StatusOr<RuleResult> result = grade_checked(*term.rule, item, deadline);
    if (!result.ok()) return result.status();
    const std::string name = term.rule->name();
    out.components[name] = result->reward;
    out.reward += term.weight * result->reward;
    details.push_back(absl::StrCat(name, ": ", result->detail));
  }
  if (out.components.empty()) {
    absl::Status none = check(item);
    return none.ok() ? absl::InternalError("no rule of the mix applied") : none;
  }
  out.detail = absl::StrJoin(details, "; ");
  return out;
}

}  // namespace forge::reward
