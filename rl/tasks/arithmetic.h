// Multi-step arithmetic: "7+8*3-5" with `ops` operations on `digits`-digit operands, answer the
// integer value with the usual precedence (* before + and -, then left to right). Items use the
// "math" reward rule with the integer as gold answer.
//
// Default difficulty: 1-digit operands, 3 operations, intermediates in [0, 99] -- the size a 4 M
// parameter model learns in minutes of SFT (issue 7's measurements: 1 digit x 3 ops learnable in
// ~5 min; 2 digits x 2 ops not learned in 4 min).
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

namespace forge::rl::tasks {

struct ArithmeticOptions {
  int digits = 1;                  // operand digits: 1 -> 1..9, 2 -> 10..99, ...
  int ops = 3;                     // operations per problem
  std::string operators = "+-*";   // drawn uniformly from these (a subset of "+-*")
  bool allow_negative = false;     // false: every intermediate of the correct evaluation is >= 0
  int64_t max_value = 99;          // every intermediate's |value| <= this; 0 = no bound
  absl::Status validate() const;   // InvalidArgument naming the field
};

struct ArithmeticProblem {
  std::vector<int64_t> operands;  // ops + 1 of them
  std::string operators;          // one per operation
  std::string text() const;       // "7+8*3-5"
};

// One operation of an evaluation: a op b = result, and the expression left afterwards.
struct ArithmeticStep {
  int64_t a = 0;
  char op = '+';
  int64_t b = 0;
  int64_t result = 0;
  ArithmeticProblem rest;  // no operators left after the last step
};

enum class EvalOrder {
  kPrecedence,   // correct: leftmost '*' first, then left to right
  kLeftToRight,  // every operation left to right, ignoring precedence (the teacher's habit)
};

// The operator index evaluated next under `order`. Requires at least one operator.
size_t next_operation(const ArithmeticProblem& p, EvalOrder order);

// Applies the operator at `index` with `result` as its value (the caller may pass a wrong one).
ArithmeticProblem substitute(const ArithmeticProblem& p, size_t index, int64_t result);

// Evaluates under `order`; appends the steps to `steps` when given. nullopt on int64 overflow.
std::optional<int64_t> evaluate_arithmetic(const ArithmeticProblem& p, EvalOrder order,
                                           std::vector<ArithmeticStep>* steps = nullptr);

// True when left-to-right evaluation takes a different path from the correct one: some '*' comes
// right after a '+' or '-' (the class the "left_to_right" habit gets wrong).
bool precedence_matters(const ArithmeticProblem& p);

// Parses "7+8*3-5" (non-negative literals, + - *, no spaces). InvalidArgument otherwise.
absl::StatusOr<ArithmeticProblem> parse_arithmetic(std::string_view text);

// Draws problems until one meets the options (validated first). FailedPrecondition when none is
// found in many tries (e.g. max_value too small for the digits).
absl::StatusOr<ArithmeticProblem> generate_arithmetic(const ArithmeticOptions& options, Rng& rng);

}  // namespace forge::rl::tasks
