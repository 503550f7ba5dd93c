#include "reward/length_rule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace forge::reward {

double overlong_penalty(double length, int max_len, int cache_len) {
  const double free_len = static_cast<double>(max_len - cache_len);
  if (length <= free_len) return 0.0;
  if (length > max_len) return -1.0;
  return std::max(-1.0, (free_len - length) / cache_len);
}

namespace {

class LengthRule final : public RewardRule {
 public:
  explicit LengthRule(const LengthOptions& options) : options_(options) {
    if (options_.cache_len == 0) options_.cache_len = std::max(1, options_.max_len / 5);
  }

  std::string name() const override { return "length"; }
  std::string description() const override {
    return absl::StrCat("DAPO soft overlong punishment: 0 up to max_len - cache_len tokens, then "
                        "down to -1 at max_len (max_len ",
                        options_.max_len, ", cache_len ", options_.cache_len, ")");
  }
  RewardRange range() const override { return {-1.0, 0.0}; }

  absl::StatusOr<RuleResult> grade(const GradeItem& item,
                                   std::chrono::steady_clock::time_point) const override {
    if (options_.max_len <= 0) {
      return absl::FailedPreconditionError(
          "reward.length.max_len is not set (the length rule needs the maximum completion length)");
    }
    double length;
    std::string unit;
    if (item.completion_tokens >= 0) {
      length = item.completion_tokens;
      unit = "tokens";
    } else {
      length = static_cast<double>(item.completion.size()) / options_.bytes_per_token;
      unit = "tokens (estimated from bytes)";
    }
    const double penalty = overlong_penalty(length, options_.max_len, options_.cache_len);
    return RuleResult{penalty, absl::StrCat(length, " ", unit, ", max_len ", options_.max_len,
                                            ", cache_len ", options_.cache_len)};
  }

 private:
  LengthOptions options_;
};

}  // namespace

std::unique_ptr<RewardRule> make_length_rule(const LengthOptions& options) {
  return std::make_unique<LengthRule>(options);
}

}  // namespace forge::reward
