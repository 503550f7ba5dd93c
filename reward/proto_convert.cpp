#include "reward/proto_convert.h"

#include "absl/strings/str_cat.h"
#include "base/utf8.h"

namespace forge::reward {

absl::StatusOr<GradeItem> from_proto(const forge::v1::GradeItem& p) {
  GradeItem item;
  item.id = p.id();
  item.rule = p.rule();
  item.completion = p.completion();
  item.answer = p.answer();
  item.prediction = p.prediction();
  if (p.completion_tokens() < 0) {
    return absl::InvalidArgumentError("completion_tokens: must be >= 0");
  }
  item.completion_tokens = p.completion_tokens() > 0 ? p.completion_tokens() : -1;
  if (!p.tests().empty()) {
    nlohmann::json tests = nlohmann::json::parse(p.tests(), nullptr, /*allow_exceptions=*/false);
    if (tests.is_discarded()) return absl::InvalidArgumentError("tests: not valid JSON");
    if (!tests.is_null() && !tests.is_object()) {
      return absl::InvalidArgumentError("tests: expected a JSON object such as {\"kind\": ...}");
    }
    item.tests = std::move(tests);
  }
  return item;
}

forge::v1::GradeItem to_proto(const GradeItem& item) {
  forge::v1::GradeItem p;
  p.set_id(to_valid_utf8(item.id));
  p.set_rule(to_valid_utf8(item.rule));
  p.set_completion(to_valid_utf8(item.completion));
  p.set_answer(to_valid_utf8(item.answer));
  p.set_prediction(to_valid_utf8(item.prediction));
  if (!item.tests.is_null()) {
    p.set_tests(item.tests.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (item.completion_tokens > 0) p.set_completion_tokens(item.completion_tokens);
  return p;
}

GradeOutcome from_proto(const forge::v1::GradeResult& p) {
  GradeOutcome out;
  out.id = p.id();
  out.reward = p.reward();
  for (const auto& [name, value] : p.components()) out.components[name] = value;
  out.detail = p.detail();
  out.error = p.error();
  out.error_code = p.error_code();
  if (!out.error.empty() && out.error_code.empty())
    out.error_code = kErrorRuleFailed;  // old server
  return out;
}

forge::v1::GradeResult to_proto(const GradeOutcome& outcome) {
  forge::v1::GradeResult p;
  p.set_id(to_valid_utf8(outcome.id));
  p.set_reward(outcome.reward);
  for (const auto& [name, value] : outcome.components) (*p.mutable_components())[name] = value;
  p.set_detail(to_valid_utf8(outcome.detail));
  p.set_error(to_valid_utf8(outcome.error));
  p.set_error_code(outcome.error_code);
  return p;
}

RuleInfo from_proto(const forge::v1::RuleInfo& p) {
  RuleInfo info;
  info.name = p.name();
  info.description = p.description();
  info.weight = p.weight();
  info.range = {p.min_reward(), p.max_reward()};
  return info;
}

forge::v1::RuleInfo to_proto(const RuleInfo& info) {
  forge::v1::RuleInfo p;
  p.set_name(info.name);
  p.set_description(to_valid_utf8(info.description));
  p.set_weight(info.weight);
  p.set_min_reward(info.range.min);
  p.set_max_reward(info.range.max);
  return p;
}

}  // namespace forge::reward
