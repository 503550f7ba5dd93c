#include "reward/accuracy_rule.h"

#include "absl/strings/str_cat.h"

namespace forge::reward {
namespace {

class AccuracyRule final : public RewardRule {
 public:
  AccuracyRule(const RewardRule* math, const RewardRule* code) : math_(math), code_(code) {}

  std::string name() const override { return "accuracy"; }
  std::string description() const override {
    return "the code rule for items with tests, the math rule for items with an answer";
  }
  absl::Status check(const GradeItem& item) const override {
    if (item.tests.is_null() && item.answer.empty()) {
      return absl::InvalidArgumentError(
          "answer: the accuracy rule needs an answer (math) or tests (code)");
    }
    const RewardRule* rule = pick(item);
    return rule == nullptr ? absl::OkStatus() : rule->check(item);
  }

  absl::StatusOr<RuleResult> grade(
      const GradeItem& item, std::chrono::steady_clock::time_point deadline) const override {
    if (absl::Status valid = check(item); !valid.ok()) return valid;
    const RewardRule* rule = pick(item);
    if (rule == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "accuracy: the ", item.tests.is_null() ? "math" : "code",
          " rule is not available in this build"));
    }
    absl::StatusOr<RuleResult> result = rule->grade(item, deadline);
    if (!result.ok()) return result.status();
    result->detail = absl::StrCat(rule->name(), ": ", result->detail);
    return result;
  }

 private:
  // The rule `item` calls for (null when it carries no reference or that rule is missing).
  const RewardRule* pick(const GradeItem& item) const {
    if (!item.tests.is_null()) return code_;
    if (!item.answer.empty()) return math_;
    return nullptr;
  }

  const RewardRule* math_;
  const RewardRule* code_;
};

}  // namespace

std::unique_ptr<RewardRule> make_accuracy_rule(const RewardRule* math, const RewardRule* code) {
  return std::make_unique<AccuracyRule>(math, code);
}

}  // namespace forge::reward
