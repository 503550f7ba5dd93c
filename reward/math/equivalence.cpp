#include "reward/math/equivalence.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace forge::reward::math {
namespace {

constexpr int kPoints = 3;
constexpr size_t kMaxItems = 128;

bool is_structure(NodeKind k) {
  switch (k) {
    case NodeKind::kTuple:
    case NodeKind::kList:
    case NodeKind::kSet:
    case NodeKind::kInterval:
    case NodeKind::kUnion:
    case NodeKind::kMatrix:
    case NodeKind::kRatio:
    case NodeKind::kEllipsis:
      return true;
    default:
      return false;
  }
}

// The value of symbol number `index` at sample point `point`: distinct positive rationals near
// 1..11 with large prime numerators and denominators, so accidental identities are unlikely.
Rational sample_value(size_t index, int point) {
  int64_t num = 1009 + static_cast<int64_t>(
                           (index * 7919 + static_cast<size_t>(point) * 104729 + 3331) % 9973);
  int64_t den = 997 + static_cast<int64_t>((index * 31 + static_cast<size_t>(point) * 17) % 101);
  return *Rational::make(BigInt(num), BigInt(den));
}

// Synthetic +inf / -inf endpoints for intervals built from one-sided inequalities.
const MathExpr& infinities() {
  static const MathExpr kInf = [] {
    MathExpr e;
    Node inf;
    inf.kind = NodeKind::kConstant;
    inf.name = "inf";
    e.add(inf);
    Node neg;
    neg.kind = NodeKind::kNeg;
    neg.kids = {0};
    e.add(neg);
    return e;
  }();
  return kInf;
}

struct Ref {
  const MathExpr* e;
  int n;
  const Node& node() const { return e->at(n); }
};

struct IntervalRef {
  Ref lo, hi;
  bool lc = false, rc = false;
};

class Comparer {
 public:
  Comparer(const CompareOptions& o, WorkBudget* b)
      : opt_(o), budget_(b), options_percent_either_way_(o.percent_either_way) {}

  bool equal(Ref g, Ref p) {
    if (!budget_->tick() || ++depth_ > 64) {
      --depth_;
      return false;
    }
    bool r = equal_inner(reduce(g), reduce(p));
    --depth_;
    return r;
  }

 private:
  bool equal_inner(Ref g, Ref p) {
    const Node& G = g.node();
    const Node& P = p.node();
    if (G.kind == NodeKind::kPercent && P.kind != NodeKind::kPercent) {
      if (equal(Ref{g.e, G.kids[0]}, p)) return true;  // gold 28\% accepts 28
    }
    // A gold written as a plain number ("10", as MATH writes "what percent" answers) accepts that
    // number with a percent sign; a gold such as 40/9 does not accept "4 4/9%" = 40/900.
    if (P.kind == NodeKind::kPercent && G.kind != NodeKind::kPercent &&
        (options_percent_either_way_ || plain_literal(g))) {
      if (equal(g, Ref{p.e, P.kids[0]})) return true;
    }
    if (G.kind == NodeKind::kRelation || P.kind == NodeKind::kRelation) {
      return relation_cases(g, p);
    }
    if (is_structure(G.kind) || is_structure(P.kind)) return struct_equal(g, p);
    return scalar_equal(g, p);
  }

  // ---- shape rules

  static bool plain_literal(Ref r) {
    const Node& n = r.node();
    if (n.kind == NodeKind::kNeg) return r.e->at(n.kids[0]).kind == NodeKind::kNumber;
    return n.kind == NodeKind::kNumber;
  }

  // A "name": symbols, f(x), products, quotients, ratios and tuples of them; no numbers.
  bool symbolish(Ref r) {
    const Node& n = r.node();
    switch (n.kind) {
      case NodeKind::kSymbol:
        return true;
      case NodeKind::kConstant:
        return n.name == "e";
      case NodeKind::kApply:
        return true;
      case NodeKind::kMul:
      case NodeKind::kDiv:
      case NodeKind::kRatio:
      case NodeKind::kTuple:
        for (int k : n.kids) {
          if (!symbolish(Ref{r.e, k})) return false;
        }
        return true;
      case NodeKind::kFunc:
        return n.name == "abs" && symbolish(Ref{r.e, n.kids[0]});
      default:
        return false;
    }
  }

  bool is_constant(Ref r) {
    if (is_structure(r.node().kind) || r.node().kind == NodeKind::kRelation) return false;
    std::vector<int> stack{r.n};
    while (!stack.empty()) {
      const Node& n = r.e->at(stack.back());
      stack.pop_back();
      if (n.kind == NodeKind::kSymbol || n.kind == NodeKind::kApply) return false;
      for (int k : n.kids) stack.push_back(k);
    }
    return true;
  }

  // Chains, approximations and membership reduce to the part that is the answer.
  Ref reduce(Ref r) {
    for (int guard = 0; guard < 16; ++guard) {
      const Node& n = r.node();
      if (n.kind != NodeKind::kRelation) return r;
      const std::string& ops = n.name;
      size_t approx = ops.find('a');
      if (approx != std::string::npos) {
        if (approx == 0) {
          r.n = symbolish(Ref{r.e, n.kids[0]}) ? n.kids[1] : n.kids[0];
        } else {
          r.n = n.kids[approx];
        }
        continue;
      }
      if (ops.size() >= 2 && ops.find_first_not_of('=') == std::string::npos) {
        r.n = n.kids.back();
        continue;
      }
      if (ops == "i" && symbolish(Ref{r.e, n.kids[0]})) {
        r.n = n.kids[1];
        continue;
      }
      return r;
    }
    return r;
  }

  // The answer side of "name = value", "value = name" or "constant = constant" (the right side
  // unless only the left is a value); -1 for any other relation.
  int answer_side(Ref r) {
    const Node& n = r.node();
    if (n.kind != NodeKind::kRelation || n.name != "=" || n.kids.size() != 2) return -1;
    Ref lhs{r.e, n.kids[0]}, rhs{r.e, n.kids[1]};
    if (symbolish(lhs) || (is_constant(lhs) && is_constant(rhs))) return n.kids[1];
    if (symbolish(rhs) && is_constant(lhs)) return n.kids[0];  // "7 = x"
    return -1;
  }

  bool relation_cases(Ref g, Ref p) {
    const Node& G = g.node();
    const Node& P = p.node();
    bool gr = G.kind == NodeKind::kRelation, pr = P.kind == NodeKind::kRelation;
    const int ga = answer_side(g), pa = answer_side(p);
    if (gr && pr) {
      if (relation_equal(g, p)) return true;
      if (ga >= 0 && pa >= 0) return equal(Ref{g.e, ga}, Ref{p.e, pa});
      return false;
    }
    if (ga >= 0) return equal(Ref{g.e, ga}, p);
    if (pa >= 0) return equal(g, Ref{p.e, pa});
    IntervalRef a, b;
    if (interval_of(g, &a) && interval_of(p, &b)) return intervals_equal(a, b);
    return false;
  }

  // Normalises "a > b" to "b < a" and ">=" likewise; returns the op.
  static char oriented(const Node& n, int* lhs, int* rhs) {
    char op = n.name[0];
    *lhs = n.kids[0];
    *rhs = n.kids[1];
    if (op == '>' || op == 'g') {
      std::swap(*lhs, *rhs);
      op = op == '>' ? '<' : 'l';
    }
    return op;
  }

  bool relation_equal(Ref g, Ref p) {
    const Node& G = g.node();
    const Node& P = p.node();
    if (G.kids.size() != P.kids.size()) return false;
    if (G.kids.size() == 2) {
      int gl, grr, pl, prr;
      char og = oriented(G, &gl, &grr);
      char op = oriented(P, &pl, &prr);
      if (og != op) return false;
      if (og == 'i') {
        return equal(Ref{g.e, gl}, Ref{p.e, pl}) && equal(Ref{g.e, grr}, Ref{p.e, prr});
      }
      if (proportional(Ref{g.e, gl}, Ref{g.e, grr}, Ref{p.e, pl}, Ref{p.e, prr},
                       og == '<' || og == 'l')) {
        return true;
      }
      // Equal sides in order (covers structures, which proportional() cannot evaluate).
      return equal(Ref{g.e, gl}, Ref{p.e, pl}) && equal(Ref{g.e, grr}, Ref{p.e, prr});
    }
    // Chains: the same relations between equal parts, read forwards or backwards.
    auto flip = [](char c) {
      switch (c) {
        case '<':
          return '>';
        case '>':
          return '<';
        case 'l':
          return 'g';
        case 'g':
          return 'l';
        default:
          return c;
      }
    };
    const size_t k = G.kids.size();
    bool forward = G.name == P.name;
    for (size_t i = 0; forward && i < k; ++i) {
      forward = equal(Ref{g.e, G.kids[i]}, Ref{p.e, P.kids[i]});
    }
    if (forward) return true;
    std::string reversed;
    for (size_t i = P.name.size(); i-- > 0;) reversed += flip(P.name[i]);
    bool backward = G.name == reversed;
    for (size_t i = 0; backward && i < k; ++i) {
      backward = equal(Ref{g.e, G.kids[i]}, Ref{p.e, P.kids[k - 1 - i]});
    }
    return backward;
  }

  // (gl - gr) == c * (pl - pr) for one constant c at every sample point (c > 0 if positive).
  bool proportional(Ref gl, Ref gr, Ref pl, Ref pr, bool positive) {
    std::vector<std::string> names;
    for (Ref r : {gl, gr, pl, pr}) {
      if (is_structure(r.node().kind)) return false;
      collect_symbols(*r.e, r.n, &names);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::optional<Num> ratio;
    int valid = 0, zero_both = 0;
    for (int point = 0; point < kPoints; ++point) {
      Env env = make_env(names, point);
      auto a = difference(gl, gr, env);
      auto b = difference(pl, pr, env);
      if (!a || !b) continue;
      ++valid;
      bool az = near_zero(*a), bz = near_zero(*b);
      if (az || bz) {
        if (!(az && bz)) return false;
        ++zero_both;
        continue;
      }
      auto r = num_div(*a, *b);
      if (!r) return false;
      if (!ratio) {
        ratio = r;
        if (positive && ratio->d <= 0) return false;
        continue;
      }
      if (!close(*ratio, *r)) return false;
    }
    return valid > 0 && (ratio.has_value() || zero_both == valid);
  }

  std::optional<Num> difference(Ref l, Ref r, const Env& env) {
    Evaluator el(*l.e, env, budget_);
    Evaluator er(*r.e, env, budget_);
    auto a = el.eval_scalar(l.n);
    auto b = er.eval_scalar(r.n);
    if (!a || !b) return std::nullopt;
    return num_sub(*a, *b);
  }

  bool near_zero(const Num& a) const {
    if (a.exact) return a.q.is_zero();
    return std::fabs(a.d) <= opt_.abs_tolerance;
  }

  bool close(const Num& a, const Num& b) const {
    if (a.exact && b.exact) return a.q == b.q;
    double diff = std::fabs(a.d - b.d);
    return diff <= opt_.abs_tolerance ||
           diff <= opt_.rel_tolerance * std::max(std::fabs(a.d), std::fabs(b.d));
  }

  static Env make_env(const std::vector<std::string>& names, int point) {
    Env env;
    env.reserve(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      env.emplace_back(names[i], Num::of(sample_value(i, point)));
    }
    return env;
  }

  // ---- structures

  bool interval_of(Ref r, IntervalRef* out) {
    const Node& n = r.node();
    if (n.kind == NodeKind::kInterval) {
      *out = {Ref{r.e, n.kids[0]}, Ref{r.e, n.kids[1]}, n.left_closed, n.right_closed};
      return true;
    }
    if (n.kind == NodeKind::kTuple && n.kids.size() == 2) {
      *out = {Ref{r.e, n.kids[0]}, Ref{r.e, n.kids[1]}, false, false};
      return true;
    }
    if (n.kind != NodeKind::kRelation) return false;
    const Ref pos_inf{&infinities(), 0}, neg_inf{&infinities(), 1};
    auto lt = [](char c) { return c == '<' || c == 'l'; };
    auto gt = [](char c) { return c == '>' || c == 'g'; };
    if (n.kids.size() == 3 && symbolish(Ref{r.e, n.kids[1]})) {
      char a = n.name[0], b = n.name[1];
      if (lt(a) && lt(b)) {
        *out = {Ref{r.e, n.kids[0]}, Ref{r.e, n.kids[2]}, a == 'l', b == 'l'};
        return true;
      }
      if (gt(a) && gt(b)) {
        *out = {Ref{r.e, n.kids[2]}, Ref{r.e, n.kids[0]}, b == 'g', a == 'g'};
        return true;
      }
      return false;
    }
    if (n.kids.size() != 2) return false;
    Ref l{r.e, n.kids[0]}, rr{r.e, n.kids[1]};
    char op = n.name[0];
    if (symbolish(rr) && is_constant(l)) {  // "5 < x" reads as "x > 5"
      std::swap(l, rr);
      op = lt(op) ? (op == '<' ? '>' : 'g') : (op == '>' ? '<' : (op == 'g' ? 'l' : op));
    }
    if (!symbolish(l) || !is_constant(rr)) return false;
    if (lt(op)) {
      *out = {neg_inf, rr, false, op == 'l'};
      return true;
    }
    if (gt(op)) {
      *out = {rr, pos_inf, op == 'g', false};
      return true;
    }
    return false;
  }

  bool intervals_equal(const IntervalRef& a, const IntervalRef& b) {
    return a.lc == b.lc && a.rc == b.rc && equal(a.lo, b.lo) && equal(a.hi, b.hi);
  }

  // Items of a list or set, with nested bare lists flattened.
  void flatten(Ref r, std::vector<Ref>* out) {
    const Node& n = r.node();
    if (n.kind == NodeKind::kList || n.kind == NodeKind::kSet) {
      for (int k : n.kids) {
        Ref kid{r.e, k};
        if (kid.node().kind == NodeKind::kList) {
          flatten(kid, out);
        } else {
          out->push_back(kid);
        }
      }
      return;
    }
    out->push_back(r);
  }

  bool ordered_equal(const std::vector<Ref>& a, const std::vector<Ref>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!equal(a[i], b[i])) return false;
    }
    return true;
  }

  // Set equality: every item of one side equals some item of the other (duplicates collapse,
  // as in a set: "(3,17,3,7)" listed twice is one solution).
  bool unordered_equal(const std::vector<Ref>& a, const std::vector<Ref>& b) {
    if (a.size() > kMaxItems || b.size() > kMaxItems || a.empty() != b.empty()) return false;
    if (a.size() == b.size()) {  // the common case: a perfect matching
      std::vector<bool> used(b.size(), false);
      bool all = true;
      for (const Ref& x : a) {
        bool found = false;
        for (size_t j = 0; j < b.size() && !found; ++j) {
          if (!used[j] && equal(x, b[j])) {
            used[j] = true;
            found = true;
          }
        }
        if (!found) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    auto covered = [&](const std::vector<Ref>& from, const std::vector<Ref>& to, bool gold_first) {
      for (const Ref& x : from) {
        bool found = false;
        for (size_t j = 0; j < to.size() && !found; ++j) {
          found = gold_first ? equal(x, to[j]) : equal(to[j], x);
        }
        if (!found) return false;
      }
      return true;
    };
    if (a.size() == b.size()) return false;  // same size, no matching: a real difference
    return covered(a, b, true) && covered(b, a, false);
  }

  static std::vector<Ref> kids_of(Ref r) {
    std::vector<Ref> out;
    for (int k : r.node().kids) out.push_back(Ref{r.e, k});
    return out;
  }

  bool struct_equal(Ref g, Ref p) {
    const Node& G = g.node();
    const Node& P = p.node();
    NodeKind a = G.kind, b = P.kind;
    if (a == NodeKind::kEllipsis || b == NodeKind::kEllipsis) return a == b;
    if (a == NodeKind::kUnion || b == NodeKind::kUnion) {
      if (a != b) return false;
      return unordered_equal(kids_of(g), kids_of(p));
    }
    if (a == NodeKind::kInterval || b == NodeKind::kInterval) {
      IntervalRef x, y;
      return interval_of(g, &x) && interval_of(p, &y) && intervals_equal(x, y);
    }
    if (a == NodeKind::kMatrix || b == NodeKind::kMatrix) {
      if (a == b) {
        if (G.rows != P.rows || G.cols != P.cols) return false;
        return ordered_equal(kids_of(g), kids_of(p));
      }
      const Node& m = a == NodeKind::kMatrix ? G : P;
      NodeKind other = a == NodeKind::kMatrix ? b : a;
      if (other == NodeKind::kTuple && (m.rows == 1 || m.cols == 1)) {
        return ordered_equal(kids_of(g), kids_of(p));
      }
      // A matrix expression such as A + B on one side: compare values.
      return scalar_equal(g, p);
    }
    if (a == NodeKind::kRatio || b == NodeKind::kRatio) {
      return a == b && ordered_equal(kids_of(g), kids_of(p));
    }
    if (a == NodeKind::kTuple || b == NodeKind::kTuple) {
      std::vector<Ref> x, y;
      if (a == NodeKind::kTuple) {
        x = kids_of(g);
      } else {
        flatten(g, &x);
      }
      if (b == NodeKind::kTuple) {
        y = kids_of(p);
      } else {
        flatten(p, &y);
      }
      if (x.size() == 1 && y.size() == 1) return equal(x[0], y[0]);
      return (x.size() > 1 && y.size() > 1) && ordered_equal(x, y);
    }
    std::vector<Ref> x, y;
    flatten(g, &x);
    flatten(p, &y);
    if (x.size() == 1 && y.size() == 1) {
      if (x[0].n == g.n && x[0].e == g.e && y[0].n == p.n && y[0].e == p.e) return false;
      return equal(x[0], y[0]);
    }
    return unordered_equal(x, y);
  }

  // ---- scalars (and matrix values)

  bool scalar_equal(Ref g, Ref p) {
    std::vector<std::string> names;
    collect_symbols(*g.e, g.n, &names);
    collect_symbols(*p.e, p.n, &names);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    const int points = names.empty() ? 1 : kPoints;
    int valid = 0;
    for (int point = 0; point < points; ++point) {
      Env env = make_env(names, point);
      Evaluator eg(*g.e, env, budget_);
      Evaluator ep(*p.e, env, budget_);
      auto a = eg.eval(g.n);
      auto b = ep.eval(p.n);
      if (!a || !b) continue;
      ++valid;
      if (a->rows != b->rows || a->cols != b->cols) return false;
      for (size_t i = 0; i < a->cells.size(); ++i) {
        if (!numbers_equal(a->cells[i], b->cells[i], opt_)) return false;
      }
    }
    return valid > 0;
  }

  const CompareOptions& opt_;
  WorkBudget* budget_;
  bool options_percent_either_way_;
  int depth_ = 0;
};

// |lit - other| <= half a unit in the literal's last decimal place.
bool rounds_to(const Num& lit, const Num& other) {
  int k = lit.literal_decimals;
  if (k < 0 || k > 30) return false;
  if (lit.exact && other.exact) {
    auto diff = Rational::sub(lit.q, other.q);
    auto half = Rational::pow(Rational(10), -k);
    if (!diff || !half) return false;
    auto h = Rational::div(*half, Rational(2));
    if (!h) return false;
    Rational ad = diff->sign() < 0 ? diff->negated() : *diff;
    return Rational::compare(ad, *h) <= 0;
  }
  double half = 0.5 * std::pow(10.0, -k);
  return std::fabs(lit.d - other.d) <= half * (1 + 1e-9) + 1e-15 * std::fabs(lit.d);
}

// floor(q * 10^places + 1/2): q rounded to `places` decimals, half away from -inf, as an integer
// count of units in that place.
std::optional<BigInt> rounded_units(const Rational& q, int places) {
  auto scale = Rational::pow(Rational(10), places);
  if (!scale) return std::nullopt;
  auto scaled = Rational::mul(q, *scale);
  if (!scaled) return std::nullopt;
  auto shifted = Rational::add(*scaled, *Rational::make(BigInt(1), BigInt(2)));
  if (!shifted) return std::nullopt;
  BigInt rem;
  auto quot = BigInt::divmod(shifted->num(), shifted->den(), &rem);
  if (!quot) return std::nullopt;
  if (!rem.is_zero() && shifted->sign() < 0) return BigInt::sub(*quot, BigInt(1));  // floor
  return quot;
}

// Both values rounded to `places` decimal places are the same number (Math-Verify's
// float_rounding): "0.333333" and "1.41421356" equal 1/3 and sqrt(2) at 6 places; "0.333" and
// "3.1416" do not.
bool same_when_rounded(const Num& a, const Num& b, int places) {
  if (places < 0 || places > 30) return false;
  if (a.exact && b.exact) {
    auto x = rounded_units(a.q, places);
    auto y = rounded_units(b.q, places);
    if (x && y) return BigInt::compare(*x, *y) == 0;
  }
  const double scale = std::pow(10.0, places);
  const double x = std::floor(a.d * scale + 0.5), y = std::floor(b.d * scale + 0.5);
  if (!std::isfinite(x) || !std::isfinite(y)) return false;
  return x == y;
}

}  // namespace

bool numbers_equal(const Num& gold, const Num& pred, const CompareOptions& options) {
  if (gold.inf != 0 || pred.inf != 0) return gold.inf == pred.inf;
  if (gold.exact && pred.exact && gold.q == pred.q) return true;
  const bool gl = gold.literal_decimals >= 0, pl = pred.literal_decimals >= 0;
  if (gl && (!pl || gold.literal_decimals < pred.literal_decimals)) {
    // A gold written as a rounded decimal ("16386.17", "0.33") accepts a value that rounds to it;
    // a one-digit gold ("0.3") is too coarse to be read that way.
    if ((pl || gold.literal_digits >= 2) && rounds_to(gold, pred)) return true;
  }
  // A decimal prediction equals a value when both round to the same number at float_rounding
  // places: never "3.14" for pi or "0.333" for 1/3.
  if (pl && same_when_rounded(gold, pred, options.float_rounding)) return true;
  if (gold.exact && pred.exact) return false;
  double diff = std::fabs(gold.d - pred.d);
  if (diff <= options.abs_tolerance) return true;
  return diff <= options.rel_tolerance * std::max(std::fabs(gold.d), std::fabs(pred.d));
}

bool answers_equivalent(const MathExpr& gold, const MathExpr& pred, const CompareOptions& options,
                        WorkBudget* budget) {
  Comparer c(options, budget);
  return c.equal(Ref{&gold, gold.root}, Ref{&pred, pred.root});
}

}  // namespace forge::reward::math
