// The programmatic teacher: writes a short step-by-step <think> trace and an <answer> for a
// synthetic problem -- the cold-start chain-of-thought data of the R1 recipe. It is imperfect on
// purpose, in three independent, configurable ways:
//
//  - a SYSTEMATIC HABIT, a consistent wrong step on one class of problems, applied to a problem of
//    the class with probability habit_rate (decided once per problem):
//      arithmetic "left_to_right" (default): evaluates left to right, ignoring precedence, when a
//        '*' follows a '+' or '-' ("7+8*3" -> "7+8=15, 15*3. 15*3=45.");
//      arithmetic "drop_carry": adds digit by digit and drops every carry (27+15 -> 32);
//      countdown "no_parens" (default): writes the answer expression without parentheses even
//        when its steps need them (steps 3+5=8, 8*7=56 -> answer "3+5*7").
//    Greedy decoding of a model that imitated the teacher keeps the habit (it is the majority
//    behaviour on its class); RL with a correctness reward can remove it, since 1 - habit_rate of
//    the class's traces show the right way.
//  - random SLIPS, each step independently with probability slip_rate: an arithmetic result off by
//    1, 2 or 10 (arithmetic), or a wrong operator (countdown); later steps carry the error.
//  - FORMAT BREAKS, each response with probability format_break_rate: a missing "</think>", an
//    answer outside <answer> tags, or a missing "</answer>".
//
// Traces use one operation per step and restate what is left, e.g. for 7+8*3-5:
//   <think>8*3=24, 7+24-5. 7+24=31, 31-5. 31-5=26.</think><answer>26</answer>
// and for countdown "Use 3,5,7 to make 22.":
//   <think>5*3=15. 15+7=22.</think><answer>5*3+7</answer>
// The response starts with "<think>" (see chat_template.h).
//
// Thread-safety: pure functions (the Rng passed in is the caller's).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rl/data/rng.h"
#include "rl/tasks/arithmetic.h"
#include "rl/tasks/countdown.h"

namespace forge::rl::tasks {

struct TeacherOptions {
  // "auto" = the task's default habit ("left_to_right" for arithmetic, "no_parens" for countdown);
  // "none" = no habit.
  std::string habit = "auto";
  double habit_rate = 0.85;        // P(habit | problem in the habit's class)
  double slip_rate = 0.03;         // P(slip) per step
  double format_break_rate = 0.03; // P(format break) per response

  // InvalidArgument naming the field; `task` is "arithmetic" or "countdown".
  absl::Status validate(const std::string& task) const;
  // The habit after resolving "auto" for `task`.
  std::string resolved_habit(const std::string& task) const;
};

struct TeacherResponse {
  std::string response;        // "<think>...</think><answer>...</answer>" unless format_broken
  std::string answer;          // the teacher's final answer (also when the format hides it)
  bool habit_class = false;    // the problem is in the class the habit acts on
  bool habit_applied = false;  // the habit was applied (then the answer is usually wrong)
  int slips = 0;
  bool format_broken = false;
};

// The result of adding a and b (both >= 0) digit by digit without carrying: 27+15 -> 32.
int64_t add_without_carry(int64_t a, int64_t b);
// True when a + b (both >= 0) needs a carry in some digit.
bool addition_needs_carry(int64_t a, int64_t b);

// InvalidArgument when the options are invalid for arithmetic; never fails otherwise.
absl::StatusOr<TeacherResponse> teach_arithmetic(const ArithmeticProblem& p,
                                                 const TeacherOptions& options, Rng& rng);

// FailedPrecondition when the puzzle has no solution.
absl::StatusOr<TeacherResponse> teach_countdown(const CountdownProblem& p,
                                                const TeacherOptions& options, Rng& rng);

}  // namespace forge::rl::tasks
