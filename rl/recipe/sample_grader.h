// Grades sampled responses to dataset examples the way `forge eval` and `forge distill` judge
// them, through a GradingBackend (the in-process Grader or a reward server):
//   correct     = the example's own rule (example.rule: "math", "code", ...) gives reward 1 to the
//                 response;
//   well_formed = the "format" rule gives 1 to the same response;
//   answer      = the text of the response's last <answer>...</answer>, trimmed (the maj@k
//                 vote key; "" when there is none).
// The response is the whole text the rules read: the prompt's response prefix ("<think>") + what
// the model generated. A grading error (a rule that timed out, ...) counts as incorrect / not
// well-formed and is kept in `error`. Thread-safety: functions; the backend is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reward/grading_backend.h"
#include "rl/data/dataset.h"

namespace forge::rl {

struct SampleGrade {
  bool correct = false;
  bool well_formed = false;
  std::string answer;
  int64_t tokens = 0;  // completion length in tokens
  std::string error;
};

struct SampleToGrade {
  const Example* example = nullptr;
  std::string response;  // response prefix + what the model generated
  int64_t tokens = 0;
};

// The checks before anything is generated: the reward stack has the example's rule and the
// "format" rule, and the example carries what its rule needs. Errors name the example and the rule.
absl::Status check_gradable(const reward::GradingBackend& grading, const Example& example);

// Grades every sample (concurrently, in one call); results in the order of `samples`.
absl::StatusOr<std::vector<SampleGrade>> grade_samples(const reward::GradingBackend& grading,
                                                       const std::vector<SampleToGrade>& samples);

}  // namespace forge::rl
