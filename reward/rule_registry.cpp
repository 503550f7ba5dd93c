#include "reward/rule_registry.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "reward/accuracy_rule.h"
#include "reward/code/code_rule.h"
#include "reward/countdown_rule.h"
#include "reward/deferred_rule.h"
#include "reward/format_rule.h"
#include "reward/length_rule.h"
#include "reward/math_rule.h"
#include "reward/plugin_rule.h"

namespace forge::reward {

namespace {

// The code rule starts its sandbox pool on first use; its options are checked now.
absl::StatusOr<std::unique_ptr<RewardRule>> make_deferred_code_rule(const nlohmann::json& json) {
  absl::StatusOr<CodeRuleOptions> options = code_rule_options_from_json(json);
  if (!options.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("reward.code: ", options.status().message()));
  }
  absl::Status valid = options->sandbox.validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("reward.code: ", valid.message()));
  DeferredRuleSpec spec;
  spec.name = "code";
  spec.description =
      "1 when the Python program in the completion passes every test (humaneval, asserts, stdio) "
      "inside a bubblewrap sandbox, else 0";
  spec.check = [](const GradeItem& item) {
    return item.tests.is_null() ? absl::InvalidArgumentError("tests: the code rule needs tests")
                                : absl::OkStatus();
  };
  spec.build = [options = *options]() { return make_code_rule(options); };
  return make_deferred_rule(std::move(spec));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RuleRegistry>> RuleRegistry::create(const RewardConfig& config) {
  RETURN_IF_ERROR(config.validate());
  auto registry = std::make_unique<RuleRegistry>();
  ASSIGN_OR_RETURN(std::unique_ptr<RewardRule> format, make_format_rule(config.format));
  RETURN_IF_ERROR(registry->add(std::move(format)));
  RETURN_IF_ERROR(registry->add(make_length_rule(config.length)));
  RETURN_IF_ERROR(registry->add(make_math_rule(config.math)));
  RETURN_IF_ERROR(registry->add(make_countdown_rule()));
  ASSIGN_OR_RETURN(std::unique_ptr<RewardRule> code, make_deferred_code_rule(config.code));
  RETURN_IF_ERROR(registry->add(std::move(code)));
  RETURN_IF_ERROR(
      registry->add(make_accuracy_rule(registry->find("math"), registry->find("code"))));

  for (const std::string& path : config.plugins) {
    ASSIGN_OR_RETURN(std::unique_ptr<RewardRule> rule,
                     load_plugin_rule(path, config.plugin_options));
    const std::string name = rule->name();
    absl::Status added = registry->add(std::move(rule));
    if (!added.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("reward plugin '", path, "': ", added.message()));
    }
  }
  for (const auto& [name, options] : config.plugin_options.items()) {
    if (registry->find(name) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("reward.plugin_options.", name,
                                                     ": no loaded plugin has this rule name"));
    }
  }
  return registry;
}

absl::Status RuleRegistry::add(std::unique_ptr<RewardRule> rule) {
  std::string name = rule->name();
  if (rules_.count(name)) {
    return absl::AlreadyExistsError(absl::StrCat("a rule named '", name, "' already exists"));
  }
  rules_.emplace(std::move(name), std::move(rule));
  return absl::OkStatus();
}

const RewardRule* RuleRegistry::find(std::string_view name) const {
  auto it = rules_.find(name);
  return it == rules_.end() ? nullptr : it->second.get();
}

std::vector<const RewardRule*> RuleRegistry::rules() const {
  std::vector<const RewardRule*> out;
  for (const auto& [name, rule] : rules_) out.push_back(rule.get());
  return out;
}

std::string RuleRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, rule] : rules_) out.push_back(name);
  return absl::StrJoin(out, ", ");
}

absl::StatusOr<RuleResult> grade_checked(const RewardRule& rule, const GradeItem& item,
                                         std::chrono::steady_clock::time_point deadline) {
  const std::string name = rule.name();
  absl::StatusOr<RuleResult> result = rule.grade(item, deadline);
  if (!result.ok()) {
    // InvalidArgument names the item's field ("answer: ..."); other errors get the rule's name.
    if (result.status().code() == absl::StatusCode::kInvalidArgument ||
        absl::StartsWith(result.status().message(), name + ":")) {
      return result.status();
    }
    absl::Status named(result.status().code(), absl::StrCat(name, ": ", result.status().message()));
    result.status().ForEachPayload(
        [&](absl::string_view url, const absl::Cord& payload) { named.SetPayload(url, payload); });
    return named;
  }
  const RewardRange range = rule.range();
  if (!std::isfinite(result->reward) || result->reward < range.min || result->reward > range.max) {
    return absl::InternalError(absl::StrCat(name, ": returned reward ", result->reward,
                                            " outside its range [", range.min, ", ", range.max,
                                            "]"));
  }
  return result;
}

}  // namespace forge::reward
