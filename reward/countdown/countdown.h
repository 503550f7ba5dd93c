// Countdown answers: reach a target from given numbers with + - * / and parentheses, using every
// number exactly once. A gold answer states the puzzle, "22 from 3,5,7" (many expressions are
// right, so the gold cannot be one of them); the response's answer is the expression inside its
// last <answer>...</answer>, e.g. "3*5+7". The checker evaluates it exactly (expression.h: 7/2 is
// not 3), requires its literals to be exactly the puzzle's numbers (as a multiset) and its value to
// be the target. rl/tasks generates the puzzles; the "countdown" reward rule grades them.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::reward::countdown {

struct Puzzle {
  std::vector<int64_t> numbers;  // in the order the gold gives them
  int64_t target = 0;
};

struct Verdict {
  bool correct = false;
  std::string extracted;  // the text of the last <answer>...</answer>, trimmed; "" when none
  std::string detail;     // one line: why ("correct", "makes 21, not 22", "uses 3,5, ...")
};

// Parses a gold answer "<target> from <n1>,<n2>,..." (two numbers or more). InvalidArgument
// quoting the text otherwise.
absl::StatusOr<Puzzle> parse_gold(std::string_view gold);

// The trimmed text inside the last complete <answer>...</answer>; nullopt when there is none.
std::optional<std::string> answer_tag(std::string_view response);

// Grades a response against a gold answer. A malformed gold is an incorrect verdict whose detail
// says so (check the gold with parse_gold first to tell the two apart).
Verdict check(std::string_view response, std::string_view gold);

}  // namespace forge::reward::countdown
