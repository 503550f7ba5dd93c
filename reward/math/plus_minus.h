// Expands \pm and \mp: a scalar holding k of them (k <= 4) becomes a list of its 2^k sign variants
// ("1 \pm \sqrt{19}" -> "1 + \sqrt{19}, 1 - \sqrt{19}"), and lists, sets and tuples absorb the
// variants of their items, so "\pm 2021" equals "\{-2021, 2021\}" but not "2021".
// Thread-safety: a pure function.
#pragma once

#include <optional>

#include "reward/math/math_expr.h"

namespace forge::reward::math {

// nullopt when the expansion would be too large (more than 4 signs in one scalar, or more than
// 64 variants in one structure). An expression without \pm is returned unchanged.
std::optional<MathExpr> expand_plus_minus(const MathExpr& e);

}  // namespace forge::reward::math
