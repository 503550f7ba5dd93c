// The configured mix: the reward of an item graded by rule "" is the weighted sum of the rewards of
// the mix's rules that apply to it (RewardRule::applies_to), e.g. `math: 1.0, format: 0.1`. The
// per-rule rewards before weighting are returned as components; rules that do not apply are left
// out of them. An item to which no rule of the mix applies is InvalidArgument.
//
// Thread-safe: immutable after create(); borrows the registry's rules.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reward/rule_registry.h"

namespace forge::reward {

struct MixResult {
  double reward = 0.0;
  std::map<std::string, double> components;  // rule name -> reward before weighting
  std::string detail;                        // "math: ...; format: ..."
};

class RewardMix {
 public:
  // Every name in `weights` must be a rule of `registry` (else InvalidArgument naming
  // reward.weights.<name> and the known rules); `registry` must outlive the mix.
  static absl::StatusOr<RewardMix> create(const RuleRegistry& registry,
                                          const std::map<std::string, double>& weights);

  // InvalidArgument when no rule of the mix applies to `item`.
  absl::Status check(const GradeItem& item) const;

  // Grades `item` with every rule of the mix that applies, sharing one deadline. The first rule
  // error is returned (with the rule's name); a wrong answer is not an error.
  absl::StatusOr<MixResult> grade(const GradeItem& item,
                                  std::chrono::steady_clock::time_point deadline) const;

  const std::map<std::string, double>& weights() const { return weights_; }

 private:
  struct Term {
    const RewardRule* rule;
    double weight;
  };
  std::map<std::string, double> weights_;
  std::vector<Term> terms_;  // in name order
};

}  // namespace forge::reward
