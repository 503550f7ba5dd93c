#include "rl/recipe/sample_grader.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "reward/grader.h"
#include "rl/tasks/answer_check.h"

namespace forge::rl {
namespace {

constexpr char kFormatRule[] = "format";
constexpr double kFull = 1.0 - 1e-9;

reward::GradeItem accuracy_item(const Example& example, const std::string& response) {
  reward::GradeItem item;
  item.rule = example.rule;
  item.completion = response;
  item.answer = example.answer;
  item.tests = example.tests;
  return item;
}

}  // namespace

absl::Status check_gradable(const reward::GradingBackend& grading, const Example& example) {
  absl::Status st = grading.check(accuracy_item(example, ""));
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("example '", example.id, "' (rule '", example.rule, "'): ", st.message()));
  }
  reward::GradeItem format;
  format.rule = kFormatRule;
  st = grading.check(format);
  if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat("format rule: ", st.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SampleGrade>> grade_samples(const reward::GradingBackend& grading,
                                                       const std::vector<SampleToGrade>& samples) {
  std::vector<reward::GradeItem> items;
  items.reserve(2 * samples.size());
  std::vector<SampleGrade> grades(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string& response = samples[i].response;
    reward::GradeItem accuracy = accuracy_item(*samples[i].example, response);
    accuracy.id = absl::StrCat(i, "/accuracy");
    accuracy.completion_tokens = static_cast<int>(samples[i].tokens);
    reward::GradeItem format;
    format.id = absl::StrCat(i, "/format");
    format.rule = kFormatRule;
    format.completion = response;
    items.push_back(std::move(accuracy));
    items.push_back(std::move(format));
    grades[i].tokens = samples[i].tokens;
    if (std::optional<std::string> answer = tasks::extract_answer(response)) {
      grades[i].answer = *answer;
    }
  }
  // Outcome 2i is sample i's accuracy, 2i + 1 its format (joined by item id).
  ASSIGN_OR_RETURN(std::vector<reward::GradeOutcome> outcomes,
                   reward::grade_joined(grading, items));
  for (size_t i = 0; i < samples.size(); ++i) {
    const reward::GradeOutcome& a = outcomes[2 * i];
    const reward::GradeOutcome& f = outcomes[2 * i + 1];
    grades[i].correct = a.error.empty() && a.reward >= kFull;
    grades[i].well_formed = f.error.empty() && f.reward >= kFull;
    grades[i].error = absl::StrCat(a.error, f.error);
  }
  return grades;
}

}  // namespace forge::rl
