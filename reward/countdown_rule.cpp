#include "reward/countdown_rule.h"

#include "absl/strings/str_cat.h"
#include "reward/countdown/countdown.h"

namespace forge::reward {
namespace {

class CountdownRule final : public RewardRule {
 public:
  std::string name() const override { return "countdown"; }
  std::string description() const override {
    return "1 when the <answer> expression uses exactly the puzzle's numbers (+ - * /, "
           "parentheses) and makes its target ('22 from 3,5,7'), else 0";
  }
  absl::Status check(const GradeItem& item) const override {
    absl::StatusOr<countdown::Puzzle> puzzle = countdown::parse_gold(item.answer);
    if (!puzzle.ok())
      return absl::InvalidArgumentError(absl::StrCat("answer: ", puzzle.status().message()));
    return absl::OkStatus();
  }

  absl::StatusOr<RuleResult> grade(const GradeItem& item,
                                   std::chrono::steady_clock::time_point) const override {
    if (absl::Status valid = check(item); !valid.ok()) return valid;
    countdown::Verdict v = countdown::check(item.completion, item.answer);
    std::string detail =
        v.extracted.empty() ? v.detail : absl::StrCat("'", v.extracted, "': ", v.detail);
    return RuleResult{v.correct ? 1.0 : 0.0, std::move(detail)};
  }
};

}  // namespace

std::unique_ptr<RewardRule> make_countdown_rule() { return std::make_unique<CountdownRule>(); }

}  // namespace forge::reward
