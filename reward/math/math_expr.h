// MathExpr: the parsed form of one answer (a number, an expression, a relation, a tuple / set /
// interval / matrix of them), stored as a flat arena of nodes that refer to their children by
// index. Produced by expression_parser, consumed by evaluator and equivalence. Thread-safety: a
// value type.
#pragma once

#include <string>
#include <vector>

#include "reward/math/rational.h"

namespace forge::reward::math {

enum class NodeKind {
  kNumber,     // value (exact), decimals >= 0 for a decimal literal such as 0.25
  kSymbol,     // name: "x", "x_1", "\alpha", "f'"
  kConstant,   // name: "pi" | "e" | "inf"
  kAdd,        // kids: addends
  kMul,        // kids: factors
  kDiv,        // kids: numerator, denominator
  kPow,        // kids: base, exponent
  kNeg,        // kids: operand
  kPlusMinus,  // kids: operand; an addend "\pm b" (expands to +b and -b)
  kFunc,       // name: sqrt | root | sin | ... | abs | floor | ceil | binom | log; kids: args
  kApply,      // name: an undefined function f, g, h; kids: args
  kFactorial,  // kids: operand
  kPercent,    // kids: operand (value / 100)
  kRelation,   // ops: one char per relation between consecutive kids: = < > l(<=) g(>=) n(!=)
               // a(approx) i(in)
  kTuple,      // (a, b, ...)
  kList,       // a, b, c (bare; "and" / "or" / ";" separated): unordered
  kSet,        // \{a, b\}: unordered
  kInterval,   // kids: low, high; left_closed / right_closed
  kUnion,      // kids: intervals or sets
  kMatrix,     // rows x cols, kids row-major
  kRatio,      // a : b
  kText,       // name: words that are not math ("Evelyn", "odd")
  kEllipsis,   // "..." in a list
};

struct Node {
  NodeKind kind = NodeKind::kNumber;
  std::string name;
  std::vector<int> kids;
  Rational value;
  int decimals = -1;  // kNumber: digits after the decimal point of a literal; -1 if not decimal
  bool left_closed = false;
  bool right_closed = false;
  int rows = 0;
  int cols = 0;
};

struct MathExpr {
  std::vector<Node> nodes;
  int root = -1;

  const Node& at(int i) const { return nodes[static_cast<size_t>(i)]; }
  int add(Node n) {
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }
};

// A compact prefix rendering for details and tests: "(add 1 (mul 2 x))".
std::string debug_string(const MathExpr& e, int node = -1);

}  // namespace forge::reward::math
