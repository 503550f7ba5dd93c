#include "reward/math_rule.h"

#include "absl/strings/str_cat.h"
#include "reward/math/math_grader.h"

namespace forge::reward {
namespace {

// Keeps a detail line short: long extracted answers are cut in the middle.
std::string shorten(const std::string& s, size_t max_len = 80) {
  if (s.size() <= max_len) return s;
  return s.substr(0, max_len / 2) + "..." + s.substr(s.size() - max_len / 2);
}

class MathRule final : public RewardRule {
 public:
  explicit MathRule(const MathRuleOptions& options) : options_(options) {}

  std::string name() const override { return "math"; }
  std::string description() const override {
    return "1 when the final answer (\\boxed{}, <answer>, #### N, 'the answer is') equals the "
           "reference answer (normalised LaTeX, numbers, expressions, sets), else 0";
  }
  absl::Status check(const GradeItem& item) const override {
    if (item.answer.empty()) {
      return absl::InvalidArgumentError("answer: the math rule needs a reference answer");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<RuleResult> grade(
      const GradeItem& item, std::chrono::steady_clock::time_point deadline) const override {
    if (absl::Status valid = check(item); !valid.ok()) return valid;
    math::MathOptions options;
    options.rel_tolerance = options_.rel_tolerance;
    options.abs_tolerance = options_.abs_tolerance;
    options.float_rounding = options_.float_rounding;
    options.percent_either_way = options_.percent_either_way;
    options.deadline = deadline;
    absl::StatusOr<math::MathVerdict> verdict =
        item.prediction.empty() ? math::grade_completion(item.completion, item.answer, options)
                                : math::grade_prediction(item.prediction, item.answer, options);
    if (!verdict.ok()) return verdict.status();
    std::string detail = verdict->extracted.empty()
                             ? verdict->detail
                             : absl::StrCat("'", shorten(verdict->extracted), "': ", verdict->detail);
    return RuleResult{verdict->correct ? 1.0 : 0.0, std::move(detail)};
  }

 private:
  MathRuleOptions options_;
};

}  // namespace

std::unique_ptr<RewardRule> make_math_rule(const MathRuleOptions& options) {
  return std::make_unique<MathRule>(options);
}

}  // namespace forge::reward
