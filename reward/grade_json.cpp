#include "reward/grade_json.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace forge::reward {
namespace {

using json = nlohmann::json;

const char* type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  return "an object";
}

absl::Status wrong_type(const char* field, const char* expected, const json& got) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": expected ", expected, ", got ", type_name(got)));
}

// A string field, or a number written as text (answers such as 72 or 0.5).
absl::Status read_text(const json& j, const char* field, bool allow_number, std::string* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (it->is_string()) {
    *out = it->get<std::string>();
  } else if (allow_number && it->is_number()) {
    *out = it->dump();
  } else {
    return wrong_type(field, allow_number ? "a string or a number" : "a string", *it);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GradeItem> grade_item_from_json(const json& j) {
  if (!j.is_object()) return wrong_type("line", "a JSON object", j);
  GradeItem item;
  if (auto it = j.find("id"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      item.id = it->get<std::string>();
    } else if (it->is_number_integer()) {
      item.id = it->dump();
    } else {
      return wrong_type("id", "a string or an integer", *it);
    }
  }
  absl::Status s = read_text(j, "rule", false, &item.rule);
  if (s.ok()) s = read_text(j, "completion", false, &item.completion);
  if (s.ok()) s = read_text(j, "answer", true, &item.answer);
  if (s.ok()) s = read_text(j, "prediction", true, &item.prediction);
  if (!s.ok()) return s;
  if (!j.contains("completion") && item.prediction.empty()) {
    return absl::InvalidArgumentError(
        "completion: missing (give the completion, or a prediction for math)");
  }
  if (auto it = j.find("tests"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return wrong_type("tests", "an object such as {\"kind\": ...}", *it);
    item.tests = *it;
  }
  if (auto it = j.find("completion_tokens"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > (1 << 30)) {
      return absl::InvalidArgumentError("completion_tokens: expected an integer >= 0");
    }
    item.completion_tokens = static_cast<int>(it->get<int64_t>());
  }
  return item;
}

json grade_outcome_to_json(const GradeOutcome& outcome, const json& id) {
  json out = json::object();
  out["id"] = id;
  out["reward"] = std::isfinite(outcome.reward) ? outcome.reward : 0.0;
  if (!outcome.components.empty()) out["components"] = outcome.components;
  if (!outcome.detail.empty()) out["detail"] = outcome.detail;
  if (!outcome.error.empty()) {
    out["error"] = {{"code", outcome.error_code.empty() ? kErrorRuleFailed : outcome.error_code},
                    {"message", outcome.error}};
  }
  return out;
}

std::string dump_json_line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace forge::reward
