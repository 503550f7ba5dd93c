// The JSON shapes of `forge grade` (DESIGN.md): input lines
//   {"id", "rule"?, "completion", "answer"?, "prediction"?, "tests"?, "completion_tokens"?}
// and output lines {"id", "reward", "components"?, "detail"?, "error"?}, where "error" is
// {"code", "message"} (reward/grade_error.h's codes) on a line that got no verdict.
// "rule" absent or "" means the configured mix; "answer" and "prediction" may be JSON numbers;
// "completion" may be left out when a "prediction" is given; other keys are ignored.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "reward/grader.h"
#include "reward/reward_rule.h"

namespace forge::reward {

// InvalidArgument naming the field ("completion: expected a string, got a number").
absl::StatusOr<GradeItem> grade_item_from_json(const nlohmann::json& j);

// `id` is written as given on the input line (a string, a number, or null when unknown).
nlohmann::json grade_outcome_to_json(const GradeOutcome& outcome, const nlohmann::json& id);

// One line of JSON text, never throwing: invalid UTF-8 in strings is replaced.
std::string dump_json_line(const nlohmann::json& j);

}  // namespace forge::reward
