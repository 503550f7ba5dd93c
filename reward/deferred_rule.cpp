#include "reward/deferred_rule.h"

#include <mutex>

#include "absl/strings/str_cat.h"

namespace forge::reward {
namespace {

class DeferredRule final : public RewardRule {
 public:
  explicit DeferredRule(DeferredRuleSpec spec) : spec_(std::move(spec)) {}

  std::string name() const override { return spec_.name; }
  std::string description() const override { return spec_.description; }
  RewardRange range() const override { return spec_.range; }

  // The spec's cheap check first; an item that passes it will be graded, so the rule is built and
  // its own check() runs too.
  absl::Status check(const GradeItem& item) const override {
    if (spec_.check) {
      absl::Status status = spec_.check(item);
      if (!status.ok()) return status;
    }
    const RewardRule* rule = built();
    return rule == nullptr ? absl::OkStatus() : rule->check(item);
  }

  absl::StatusOr<RuleResult> grade(
      const GradeItem& item, std::chrono::steady_clock::time_point deadline) const override {
    const RewardRule* rule = built();
    if (rule == nullptr) return build_error_;
    return rule->grade(item, deadline);
  }

 private:
  // The real rule, built on the first call; null when building failed (build_error_ says why).
  const RewardRule* built() const {
    std::call_once(once_, [this] {
      absl::StatusOr<std::unique_ptr<RewardRule>> built = spec_.build();
      if (built.ok() && *built != nullptr) {
        rule_ = std::move(built).value();
      } else if (built.ok()) {
        build_error_ = absl::InternalError(absl::StrCat("the ", spec_.name, " rule built nothing"));
      } else {
        build_error_ = absl::Status(built.status().code(),
                                    absl::StrCat("starting the ", spec_.name,
                                                 " rule: ", built.status().message()));
      }
    });
    return rule_.get();
  }

  DeferredRuleSpec spec_;
  mutable std::once_flag once_;
  mutable std::unique_ptr<RewardRule> rule_;
  mutable absl::Status build_error_;
};

}  // namespace

std::unique_ptr<RewardRule> make_deferred_rule(DeferredRuleSpec spec) {
  return std::make_unique<DeferredRule>(std::move(spec));
}

}  // namespace forge::reward
