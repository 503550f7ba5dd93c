#include "reward/grading_backend.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "reward/grader.h"

namespace forge::reward {

absl::StatusOr<std::vector<GradeOutcome>> grade_joined(const GradingBackend& grading,
                                                       const std::vector<GradeItem>& items) {
  std::map<std::string, size_t> waiting;  // item id -> its index
  for (size_t i = 0; i < items.size(); ++i) {
    if (!waiting.emplace(items[i].id, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("items[", i, "].id: '", items[i].id, "' is used twice"));
    }
  }
  absl::StatusOr<std::vector<GradeOutcome>> answered = grading.grade(items);
  if (!answered.ok()) return answered.status();
  std::vector<GradeOutcome> joined(items.size());
  for (GradeOutcome& outcome : *answered) {
    auto it = waiting.find(outcome.id);
    if (it == waiting.end()) {
      return absl::InternalError(
          absl::StrCat("grading returned an outcome for item '", outcome.id,
                       "', which was not asked for or was answered already"));
    }
    joined[it->second] = std::move(outcome);
    waiting.erase(it);
  }
  if (!waiting.empty()) {
    return absl::InternalError(absl::StrCat("grading returned no outcome for item '",
                                            waiting.begin()->first, "' (", waiting.size(),
                                            " missing)"));
  }
  return joined;
}

}  // namespace forge::reward
