#include "reward/format_rule.h"

#include <re2/re2.h>

#include "absl/strings/str_cat.h"

namespace forge::reward {
namespace {

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

RE2::Options pattern_options() {
  RE2::Options options;
  options.set_dot_nl(true);
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  return options;
}

class FormatRule final : public RewardRule {
 public:
  explicit FormatRule(const FormatOptions& options)
      : options_(options), pattern_(options.pattern, pattern_options()) {}

  absl::Status init() const {
    if (!pattern_.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("reward.format.pattern: not a valid RE2 pattern: ", pattern_.error()));
    }
    return absl::OkStatus();
  }

  std::string name() const override { return "format"; }
  std::string description() const override {
    return "1 when the completion is exactly one <think>...</think> followed by "
           "<answer>...</answer> (reward.format.pattern), else 0";
  }

  absl::StatusOr<RuleResult> grade(const GradeItem& item,
                                   std::chrono::steady_clock::time_point) const override {
    const std::string text = options_.prefix + item.completion;
    for (const std::string& tag : options_.unique_tags) {
      const size_t n = count_occurrences(text, tag);
      if (n != 1) {
        return RuleResult{0.0, absl::StrCat(tag, " occurs ", n, " times (expected once)")};
      }
    }
    if (!RE2::FullMatch(text, pattern_)) {
      return RuleResult{0.0, "does not match reward.format.pattern"};
    }
    return RuleResult{1.0, "well formed"};
  }

 private:
  FormatOptions options_;
  RE2 pattern_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RewardRule>> make_format_rule(const FormatOptions& options) {
  auto rule = std::make_unique<FormatRule>(options);
  absl::Status status = rule->init();
  if (!status.ok()) return status;
  return std::unique_ptr<RewardRule>(std::move(rule));
}

}  // namespace forge::reward
