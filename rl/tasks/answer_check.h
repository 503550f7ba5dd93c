// Grading helpers for the synthetic tasks: pull the answer out of an R1-style response and check
// it. These are the tasks' own checkers -- used by the generator's self-checks, the teacher's
// statistics and the tests; in training, rewards come from reward/ (the "math" rule grades the
// arithmetic items; check_countdown is meant to be registered there as the "countdown" rule).
//
// A response is what the policy produced after the prompt, with the chat template's prefix put
// back (ChatTemplate::response), e.g. "<think>8*3=24, 7+24-5. ...</think><answer>26</answer>".
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rl/data/dataset.h"

namespace forge::rl::tasks {

struct AnswerCheck {
  bool correct = false;
  std::string extracted;  // the text of the last <answer>...</answer>, trimmed; "" when none
  std::string detail;     // one line: why
};

// The trimmed text inside the last complete <answer>...</answer>; nullopt when there is none.
std::optional<std::string> extract_answer(std::string_view response);

// True for exactly "<think>T</think><answer>A</answer>" (whitespace allowed around and between the
// two blocks), where T and A contain no tag and A is not blank. The reward stack's "format" rule
// is what training uses; this is the same contract, for statistics and tests.
bool is_well_formed(std::string_view response);

// The answer must be a decimal integer equal to `gold` (also a decimal integer).
AnswerCheck check_integer_answer(std::string_view response, std::string_view gold);

// Checks a response against a generated example: rule "math" with an integer gold answer ->
// check_integer_answer; rule "countdown" -> check_countdown (countdown.h). InvalidArgument for any
// other example (these checkers only know the synthetic tasks).
absl::StatusOr<AnswerCheck> check_task_answer(const Example& example, std::string_view response);

}  // namespace forge::rl::tasks
