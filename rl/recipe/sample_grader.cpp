#include "rl/recipe/sample_grader.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
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

absl::Status check_gradable(const reward::Grader& grader, const Example& example) {
  absl::Status st = grader.check(accuracy_item(example, ""));
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("example '", example.id, "' (rule '", example.rule, "'): ", st.message()));
  }
  reward::GradeItem format;
  format.rule = kFormatRule;
  st = grader.check(format);
  if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat("format rule: ", st.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SampleGrade>> grade_samples(const reward::Grader& grader,
                                                       const ChatTemplate& chat,
                                                       const std::vector<SampleToGrade>& samples) {
  std::vector<reward::GradeItem> items;
  items.reserve(2 * samples.size());
  std::vector<SampleGrade> grades(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string response = chat.response(samples[i].completion);
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
  // The grader's queue bounds a batch; grade in slices that fit it.
  const size_t slice = static_cast<size_t>(std::max(2, grader.config().queue_limit / 2 * 2));
  std::vector<reward::GradeOutcome> outcomes;
  outcomes.reserve(items.size());
  for (size_t start = 0; start < items.size(); start += slice) {
    std::vector<reward::GradeItem> part(items.begin() + start,
                                        items.begin() + std::min(items.size(), start + slice));
    ASSIGN_OR_RETURN(std::vector<reward::GradeOutcome> graded,
                     grader.grade_batch(part, reward::BatchOptions{}));
    for (auto& o : graded) outcomes.push_back(std::move(o));
  }
  for (size_t i = 0; i < samples.size(); ++i) {
    const reward::GradeOutcome& a = outcomes[2 * i];
    const reward::GradeOutcome& f = outcomes[2 * i + 1];
    grades[i].correct = a.error.empty() && a.reward >= kFull;
    grades[i].well_formed = f.error.empty() && f.reward >= kFull;
    if (!a.error.empty()) grades[i].error = a.error;
    if (!f.error.empty()) grades[i].error = absl::StrCat(grades[i].error, f.error);
  }
  return grades;
}

}  // namespace forge::rl
