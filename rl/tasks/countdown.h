// Countdown: reach a target from given numbers with + - * / and parentheses, using every number
// exactly once. The prompt is "Use 3,5,7 to make 22."; the answer is an expression such as
// "3*5+7" written inside <answer></answer>.
//
// Items carry rule "countdown" and a gold answer that states the puzzle, "22 from 3,5,7" (the
// grader needs the numbers, and a GradeItem has only the completion and the answer). The math rule
// cannot grade them (many expressions are right); the reward stack's "countdown" rule does
// (reward/countdown/countdown.h: the expression is evaluated exactly, so 7/2 is not 3, its literals
// must be the given numbers as a multiset and its value the target). This file generates and
// solves puzzles; parse_countdown_gold and check_countdown call that checker.
//
// Thread-safety: pure functions (the Rng passed in is the caller's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rl/data/rng.h"
#include "rl/tasks/answer_check.h"

namespace forge::rl::tasks {

struct CountdownOptions {
  int count = 3;                  // numbers given
  int64_t max_number = 20;        // numbers are drawn from 1..max_number
  std::string operators = "+-*/"; // the generator's reference solutions use these
  int64_t max_target = 99;        // targets are in [1, max_target]
  absl::Status validate() const;  // InvalidArgument naming the field
};

struct CountdownProblem {
  std::vector<int64_t> numbers;  // in the order shown in the prompt
  int64_t target = 0;
  std::string prompt() const;    // "Use 3,5,7 to make 22."
  std::string gold() const;      // "22 from 3,5,7"
  std::string key() const;       // order-free identity: "countdown:3,5,7=22" (numbers sorted)
};

// One combination of two values of the pool.
struct CountdownStep {
  int64_t a = 0;
  char op = '+';
  int64_t b = 0;
  int64_t result = 0;
};

// A solution as steps and as one expression. `expression` is parenthesised where precedence needs
// it; `needs_parentheses` says whether it has any.
struct CountdownSolution {
  std::vector<CountdownStep> steps;
  std::string expression;
  bool needs_parentheses = false;
};

// Parses a gold answer "22 from 3,5,7". InvalidArgument naming the text otherwise.
absl::StatusOr<CountdownProblem> parse_countdown_gold(std::string_view gold);

// Draws numbers and a random way to combine them (positive integer intermediates, exact
// division), and takes its value as the target when it is in [1, max_target]. `solution`, when
// given, receives the way it was built.
absl::StatusOr<CountdownProblem> generate_countdown(const CountdownOptions& options, Rng& rng,
                                                    CountdownSolution* solution = nullptr);

// The first solution of a fixed depth-first search (pairs in order, ops in `operators` order,
// larger value first; only positive integer intermediates). nullopt when there is none.
std::optional<CountdownSolution> solve_countdown(const CountdownProblem& p,
                                                 const std::string& operators = "+-*/");

// The expression of a sequence of steps over `numbers` (each step combines two values still in the
// pool; a result becomes a value). `parenthesise` false writes the operands side by side with no
// parentheses (the teacher's habit). Empty string when the steps do not match the numbers.
std::string countdown_expression(const std::vector<int64_t>& numbers,
                                 const std::vector<CountdownStep>& steps, bool parenthesise,
                                 bool* needs_parentheses = nullptr);

// Grades a response: the <answer> must be an expression over exactly the gold's numbers whose
// value is the gold's target. A malformed gold is an incorrect check whose detail says so.
AnswerCheck check_countdown(std::string_view response, std::string_view gold);

}  // namespace forge::rl::tasks
