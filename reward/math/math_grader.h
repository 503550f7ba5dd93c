// Math answer grading: the public API of reward/math/.
//
// grade_completion() takes a model's whole completion, extracts its final answer (the last
// \boxed{...} / \fbox{...} with nested braces, <answer>...</answer>, a GSM8K "#### 72" line,
// "the answer is ...", or a final bare number) and compares it with the gold answer.
// grade_prediction() takes an answer that is already extracted and only normalises and compares.
//
// Comparison, in order: exact string after normalisation (LaTeX spacing, \left/\right,
// \dfrac/\tfrac, \text{}/units, degrees, percent, dollars, thousands separators, trailing zeros,
// `x = 5` -> 5, scientific notation); numbers within a relative tolerance; an expression parser of
// our own over exact bounded rationals (+ - * / ^, sqrt and n-th roots, pi, e, implicit
// multiplication, fractions, mixed numbers) with symbolic equivalence checked by evaluating both
// sides at random points; then tuples, intervals, unordered sets, matrices and equations element by
// element.
//
// Bounded work: inputs are capped in length, nesting depth and number size (a 10,000-digit number
// or 2^(10^9) falls back to floating point or "cannot decide", never a hang), and the deadline is
// checked while parsing and evaluating.
//
// Thread-safety: both functions are pure and may be called concurrently from any number of threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace forge::reward::math {

struct MathOptions {
  // Exact rationals compare exactly. A decimal prediction ("0.333333", "3.1416") equals the gold
  // when both rounded to float_rounding decimal places are the same number (Math-Verify's
  // float_rounding, default 6): 1.41421356 is right for sqrt(2), 3.14 and 3.1416 are wrong for
  // pi, 0.333 is wrong for 1/3. A gold written as a rounded decimal ("16386.17") accepts a value
  // that rounds to it. Other values computed in floating point (pi/4 against \frac{\pi}{4})
  // are equal when |a - b| <= rel_tolerance * max(|a|, |b|) or <= abs_tolerance: the defaults
  // allow for floating-point error only, so a rounded value never passes through them.
  double rel_tolerance = 1e-9;
  double abs_tolerance = 1e-9;
  int float_rounding = 6;
  // Grading past this instant returns DeadlineExceeded. The default means "no deadline".
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Only the last max_input_bytes of a completion (and of a gold) are read: the answer is at the
  // end, and 256 KiB (~64k tokens) is past any generation length while keeping a hostile input's
  // extraction well under a second.
  std::size_t max_input_bytes = 1 << 18;
  // Percentages: "50%" always equals 0.5; a gold "50\%" also accepts 50, and a gold written as a
  // plain number 50 also accepts "50%" (MATH writes "what percent" answers as plain numbers).
  // When true, a predicted "X%" also matches a gold X of any form (e.g. 40/9 for "4 4/9%"),
  // which Math-Verify's tests reject.
  bool percent_either_way = false;
};

struct MathVerdict {
  bool correct = false;
  std::string extracted;  // the answer taken from the completion (the prediction itself for
                          // grade_prediction), after light cleanup; empty when none was found
  std::string detail;     // one line: how the verdict was reached ("exact", "numeric", "no answer")
};

// `completion`: a model's whole completion. `gold`: the reference answer (a short answer; a
// \boxed{} inside it is extracted too). An empty or unparseable extraction is an OK verdict with
// correct == false. Errors: DeadlineExceeded when options.deadline passes.
absl::StatusOr<MathVerdict> grade_completion(std::string_view completion, std::string_view gold,
                                             const MathOptions& options);

// `prediction`: an answer already extracted: normalise and compare only.
absl::StatusOr<MathVerdict> grade_prediction(std::string_view prediction, std::string_view gold,
                                             const MathOptions& options);

}  // namespace forge::reward::math
