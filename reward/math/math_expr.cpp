#include "reward/math/math_expr.h"

namespace forge::reward::math {
namespace {

const char* kind_name(NodeKind k) {
  switch (k) {
    case NodeKind::kNumber:
      return "num";
    case NodeKind::kSymbol:
      return "sym";
    case NodeKind::kConstant:
      return "const";
    case NodeKind::kAdd:
      return "add";
    case NodeKind::kMul:
      return "mul";
    case NodeKind::kDiv:
      return "div";
    case NodeKind::kPow:
      return "pow";
    case NodeKind::kNeg:
      return "neg";
    case NodeKind::kPlusMinus:
      return "pm";
    case NodeKind::kFunc:
      return "func";
    case NodeKind::kApply:
      return "apply";
    case NodeKind::kFactorial:
      return "fact";
    case NodeKind::kPercent:
      return "percent";
    case NodeKind::kRelation:
      return "rel";
    case NodeKind::kTuple:
      return "tuple";
    case NodeKind::kList:
      return "list";
    case NodeKind::kSet:
      return "set";
    case NodeKind::kInterval:
      return "interval";
    case NodeKind::kUnion:
      return "union";
    case NodeKind::kMatrix:
      return "matrix";
    case NodeKind::kRatio:
      return "ratio";
    case NodeKind::kText:
      return "text";
    case NodeKind::kEllipsis:
      return "...";
  }
  return "?";
}

}  // namespace

std::string debug_string(const MathExpr& e, int node) {
  if (node < 0) node = e.root;
  if (node < 0) return "()";
  const Node& n = e.at(node);
  if (n.kind == NodeKind::kNumber) return n.value.to_string();
  if (n.kind == NodeKind::kSymbol || n.kind == NodeKind::kConstant) return n.name;
  std::string out = "(";
  out += kind_name(n.kind);
  if (!n.name.empty()) out += ":" + n.name;
  if (n.kind == NodeKind::kInterval) {
    out += n.left_closed ? "[" : "(";
    out += n.right_closed ? "]" : ")";
  }
  if (n.kind == NodeKind::kMatrix) {
    out += ":" + std::to_string(n.rows) + "x" + std::to_string(n.cols);
  }
  for (int k : n.kids) out += " " + debug_string(e, k);
  return out + ")";
}

}  // namespace forge::reward::math
