// Grades sampled completions of dataset examples the way `forge eval` and `forge distill` judge
// them, in-process with the reward stack (reward::Grader, configured by the run config's `reward:`
// section):
//   correct     = the example's own rule (example.rule: "math", "code", ...) gives reward 1 to the
//                 response (template.response(completion): the prompt's "<think>" put back);
//   well_formed = the "format" rule gives 1 to the same response;
//   answer      = the text of the response's last <answer>...</answer>, trimmed (the maj@k
//                 vote key; "" when there is none).
// A grading error (a rule that timed out, ...) counts as incorrect / not well-formed and is kept in
// `error`. Thread-safety: functions; the Grader is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reward/grader.h"
#include "rl/data/chat_template.h"
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
  std::string completion;  // what the model generated after the prompt
  int64_t tokens = 0;
};

// The checks before anything is generated: the reward stack has the example's rule and the
// "format" rule, and the example carries what its rule needs. Errors name the example and the rule.
absl::Status check_gradable(const reward::Grader& grader, const Example& example);

// Grades every sample (concurrently on the grader's pool); results in the same order.
absl::StatusOr<std::vector<SampleGrade>> grade_samples(const reward::Grader& grader,
                                                       const ChatTemplate& chat,
                                                       const std::vector<SampleToGrade>& samples);

}  // namespace forge::rl
