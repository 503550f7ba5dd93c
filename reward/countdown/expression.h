// A small exact evaluator for the integer expressions of countdown answers (rl/tasks generates
// them with it too): non-negative integer literals, + - * /, parentheses, spaces. No unary minus
// (a countdown answer may not negate a given number). Values are exact rationals over int64 (7/2
// stays 7/2); overflow, division by zero, inputs over kMaxLength characters or nested deeper than
// kMaxDepth are errors, so any string a model writes is evaluated in bounded time.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::reward::countdown {

struct Rational {
  int64_t num = 0;
  int64_t den = 1;  // > 0, gcd(num, den) == 1
  bool is_integer() const { return den == 1; }
  friend bool operator==(const Rational& a, const Rational& b) {
    return a.num == b.num && a.den == b.den;
  }
};

struct EvaluatedExpression {
  Rational value;
  std::vector<int64_t> literals;  // every integer literal, in reading order
};

inline constexpr size_t kMaxExpressionLength = 256;
inline constexpr int kMaxExpressionDepth = 32;

// InvalidArgument (naming the position) for a syntax error, OutOfRange for overflow or division
// by zero.
absl::StatusOr<EvaluatedExpression> evaluate_expression(std::string_view text);

// Exact int64 arithmetic: false on overflow (or division by zero / inexact division for divide).
bool checked_apply(int64_t a, char op, int64_t b, int64_t* out);

// `text` without leading and trailing ASCII whitespace.
std::string_view strip_whitespace(std::string_view text);

// Decimal integer with an optional leading '-' (no '+', no spaces inside); false otherwise or on
// overflow.
bool parse_int64(std::string_view text, int64_t* out);

}  // namespace forge::reward::countdown
