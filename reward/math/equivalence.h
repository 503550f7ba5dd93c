// Decides whether a predicted answer equals the gold answer, both already parsed (and \pm
// expanded). Rules, applied structurally:
//  - "x = 5", "k=1", "(p,q) = (3,2)", "\frac{NO}{BO} = ..." (a name on the left) compare by their
//    right side; a chain "x = 5+5+1 = 11" by its last part; "a \approx b" by the exact part;
//    "x \in S" by S. "7 = 11a+c" and "a+3z = 0" are not names: they stay equations.
//  - Equations and inequalities compare as relations: L1 - R1 = c (L2 - R2) at random points, with
//    c > 0 for inequalities, so "2x+4y-3=0" equals "y = -x/2 + 3/4" and "-x > -1" equals "x < 1".
//  - Tuples, ratios and matrices compare in order; bare lists and sets without order; intervals by
//    endpoints and closedness ("(a, b)" is a tuple or an open interval; "a < x < b" an interval).
//  - Scalars evaluate at shared random rational points for their free symbols: exactly when both
//    sides stay rational, else within the relative tolerance (floating-point error only, by
//    default). A decimal prediction equals a value when both round to the same number at
//    float_rounding decimal places (Math-Verify's rule: "0.333333" and "1.41421356" are right for
//    1/3 and sqrt(2); "0.333", "3.14" and "3.1416" are wrong for 1/3 and pi); a gold written as a
//    decimal with k places accepts a value that rounds to it (gold "16386.17" for 16386.169); a
//    gold percentage "28\%" also accepts 28, and a gold plain number "10" also accepts "10\%" (MATH
//    writes "what percent" answers as numbers), but a gold 40/9 does not accept "4 4/9%".
// Thread-safety: pure functions.
#pragma once

#include "reward/math/evaluator.h"
#include "reward/math/math_expr.h"
#include "reward/math/work_budget.h"

namespace forge::reward::math {

struct CompareOptions {
  double rel_tolerance = 1e-9;
  double abs_tolerance = 1e-9;
  int float_rounding = 6;  // decimal places at which a decimal prediction is compared
  // A predicted "X%" also matches a gold X of any form (not only a plain number).
  bool percent_either_way = false;
};

// Gold first: the name rules and the percent rule are asymmetric.
bool answers_equivalent(const MathExpr& gold, const MathExpr& pred, const CompareOptions& options,
                        WorkBudget* budget);

// Two numbers, gold first, with the rounding and tolerance rules above.
bool numbers_equal(const Num& gold, const Num& pred, const CompareOptions& options);

}  // namespace forge::reward::math
