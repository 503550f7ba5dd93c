// Parses one normalised answer (see latex_normalizer.h) into a MathExpr: a recursive-descent parser
// of our own for the LaTeX and plain-text math that answers use.
//
// Grammar, loosest first: list (";", ",", "and", "or") > relation (= < > \le \ge \ne \approx \in,
// chains allowed) > ratio (a:b) > union (\cup) > additive (+ - \pm \mp) > term (* / \cdot \times
// \div, implicit multiplication) > unary minus > power (^, right-assoc) > postfix (! % ') >
// primary: numbers (thousands separators "1,000" / "1 000", mixed numbers "4 4/9" and
// "918\frac12", base-b literals "204_5", scientific notation), symbols with subscripts, \pi, e,
// \infty, \frac \sqrt[n] \binom, functions (\sin, \log_b, |x|, \lfloor ...), f(x), tuples,
// intervals [a,b), sets \{...\}, matrices (pmatrix, bmatrix, array), brace groups.
//
// Errors: InvalidArgument when the text is not an answer this grammar reads; OutOfRange for a
// malformed value that must be graded wrong rather than re-read (a mixed number such as "4 4/0"
// or "11 6/6"); ResourceExhausted when the answer is nested deeper than kMaxNestingDepth
// brackets or its operators deeper than the recursion bound (the message says which), or has more
// than kMaxParseNodes nodes; the budget's status when the work budget runs out. The recursion is
// bounded so that a 256-level answer parses on a 1 MiB stack. Thread-safety: a pure function.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "reward/math/math_expr.h"
#include "reward/math/work_budget.h"

namespace forge::reward::math {

// Brackets ( [ { nested deeper than this are refused before parsing.
inline constexpr int kMaxNestingDepth = 256;
// Recursive productions active at once: one bracket level costs up to ~13 (a \frac{}{} inside
// parentheses inside a sum ...), so kMaxNestingDepth levels of any kind fit.
inline constexpr int kMaxParseDepth = 16 * kMaxNestingDepth;
inline constexpr int kMaxParseNodes = 20000;
inline constexpr size_t kMaxAnswerChars = 20000;

absl::StatusOr<MathExpr> parse_answer(std::string_view normalized, WorkBudget* budget);

}  // namespace forge::reward::math
