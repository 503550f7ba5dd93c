// The synthetic tasks build their answers with the exact integer arithmetic that the countdown
// reward rule checks them with: reward/countdown/expression.h, named here for rl/tasks.
#pragma once

#include "reward/countdown/expression.h"

namespace forge::rl::tasks {

using reward::countdown::checked_apply;
using reward::countdown::evaluate_expression;
using reward::countdown::EvaluatedExpression;
using reward::countdown::kMaxExpressionDepth;
using reward::countdown::kMaxExpressionLength;
using reward::countdown::parse_int64;
using reward::countdown::Rational;
using reward::countdown::strip_whitespace;

}  // namespace forge::rl::tasks
