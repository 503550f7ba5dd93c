// Evaluates a MathExpr node to a number (or a matrix of numbers) at one assignment of its free
// symbols. Arithmetic stays exact over Rational while it can (integers, fractions, decimals,
// integer powers, perfect roots, factorials) and continues in double precision otherwise (pi, e,
// irrational roots, trigonometry, logarithms, values past BigInt::kMaxBits). Undefined function
// symbols f(x) evaluate to a fixed pseudo-random function of their arguments, so f(1)+f(2) equals
// f(2)+f(1) but not f(3). Structures (relations, tuples, sets, intervals) are not numbers: eval()
// returns nullopt, as it does for a domain error (division by zero, sqrt of a negative) or an
// overflow to inf/nan. Thread-safety: an Evaluator is used by one thread; the free functions are
// pure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reward/math/math_expr.h"
#include "reward/math/rational.h"
#include "reward/math/work_budget.h"

namespace forge::reward::math {

struct Num {
  bool exact = true;
  Rational q;                 // the value when exact
  double d = 0.0;             // always an approximation of the value
  int inf = 0;                // +1 / -1 for the value +-infinity (exact is false then)
  int literal_decimals = -1;  // >= 0: the value is a bare decimal literal ("0.33" -> 2)
  int literal_digits = 0;     // significant digits of that literal ("0.33" -> 2)

  static Num of(const Rational& r);
  static Num approx(double v);
};

struct Value {
  int rows = 0;  // 0 x 0: a scalar in cells[0]
  int cols = 0;
  std::vector<Num> cells;
  bool is_matrix() const { return rows > 0; }
};

using Env = std::vector<std::pair<std::string, Num>>;

class Evaluator {
 public:
  Evaluator(const MathExpr& e, const Env& env, WorkBudget* budget)
      : e_(e), env_(env), budget_(budget) {}
  std::optional<Value> eval(int node);
  std::optional<Num> eval_scalar(int node);

 private:
  std::optional<Value> eval_func(const Node& n);
  const MathExpr& e_;
  const Env& env_;
  WorkBudget* budget_;
  int depth_ = 0;
};

// Arithmetic on Num, shared with the equivalence checks. nullopt on a domain error or overflow.
std::optional<Num> num_add(const Num& a, const Num& b);
std::optional<Num> num_sub(const Num& a, const Num& b);
std::optional<Num> num_mul(const Num& a, const Num& b);
std::optional<Num> num_div(const Num& a, const Num& b);
std::optional<Num> num_pow(const Num& a, const Num& b);

// Free symbol names under `node` (sorted, unique); function names of f(x) are not included.
void collect_symbols(const MathExpr& e, int node, std::vector<std::string>* out);

}  // namespace forge::reward::math
