#include "reward/math/evaluator.h"

#include "reward/math/expression_parser.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace forge::reward::math {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kE = 2.71828182845904523536;
constexpr int kMaxEvalDepth = kMaxParseDepth;  // as deep as any tree the parser builds

std::optional<Num> finite(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  return Num::approx(v);
}

bool is_zero(const Num& a) { return a.inf == 0 && (a.exact ? a.q.is_zero() : a.d == 0.0); }

// Exact integer value when a is an exact integer that fits in int64.
bool exact_int(const Num& a, int64_t* out) {
  return a.exact && a.q.is_integer() && a.q.num().to_int64(out);
}

std::optional<Num> nth_root(const Num& x, int64_t n) {
  if (n < 1) return std::nullopt;
  if (x.inf != 0) return std::nullopt;
  if (x.exact) {
    if (auto r = Rational::root(x.q, n)) return Num::of(*r);
  }
  if (x.d < 0) {
    if (n % 2 == 0) return std::nullopt;
    return finite(-std::pow(-x.d, 1.0 / static_cast<double>(n)));
  }
  return finite(std::pow(x.d, 1.0 / static_cast<double>(n)));
}

std::optional<Num> floor_ceil(const Num& x, bool is_floor) {
  if (x.inf != 0) return std::nullopt;
  if (x.exact) {
    BigInt rem;
    auto q = BigInt::divmod(x.q.num(), x.q.den(), &rem);
    if (!q) return std::nullopt;
    BigInt r = *q;  // truncated toward zero
    if (!rem.is_zero()) {
      if (is_floor && x.q.sign() < 0) r = *BigInt::sub(r, BigInt(1));
      if (!is_floor && x.q.sign() > 0) r = *BigInt::add(r, BigInt(1));
    }
    auto v = Rational::make(r, BigInt(1));
    if (!v) return std::nullopt;
    return Num::of(*v);
  }
  return finite(is_floor ? std::floor(x.d) : std::ceil(x.d));
}

}  // namespace

Num Num::of(const Rational& r) {
  Num n;
  n.exact = true;
  n.q = r;
  n.d = r.to_double();
  return n;
}

Num Num::approx(double v) {
  Num n;
  n.exact = false;
  n.d = v;
  return n;
}

std::optional<Num> num_add(const Num& a, const Num& b) {
  if (a.inf != 0 || b.inf != 0) {
    if (a.inf != 0 && b.inf != 0 && a.inf != b.inf) return std::nullopt;
    Num r = Num::approx(0);
    r.inf = a.inf != 0 ? a.inf : b.inf;
    r.d = r.inf * HUGE_VAL;
    return r;
  }
  if (a.exact && b.exact) {
    if (auto s = Rational::add(a.q, b.q)) return Num::of(*s);
  }
  return finite(a.d + b.d);
}

std::optional<Num> num_sub(const Num& a, const Num& b) {
  Num nb = b;
  nb.q = b.q.negated();
  nb.d = -b.d;
  nb.inf = -b.inf;
  return num_add(a, nb);
}

std::optional<Num> num_mul(const Num& a, const Num& b) {
  if (a.inf != 0 || b.inf != 0) {
    if (is_zero(a) || is_zero(b)) return std::nullopt;
    int sa = a.inf != 0 ? a.inf : (a.d < 0 ? -1 : 1);
    int sb = b.inf != 0 ? b.inf : (b.d < 0 ? -1 : 1);
    Num r = Num::approx(0);
    r.inf = sa * sb;
    r.d = r.inf * HUGE_VAL;
    return r;
  }
  if (a.exact && b.exact) {
    if (auto p = Rational::mul(a.q, b.q)) return Num::of(*p);
  }
  return finite(a.d * b.d);
}

std::optional<Num> num_div(const Num& a, const Num& b) {
  if (a.inf != 0 || b.inf != 0) return std::nullopt;
  if (is_zero(b)) return std::nullopt;
  if (a.exact && b.exact) {
    if (auto q = Rational::div(a.q, b.q)) return Num::of(*q);
  }
  return finite(a.d / b.d);
}

std::optional<Num> num_pow(const Num& a, const Num& b) {
  if (a.inf != 0 || b.inf != 0) return std::nullopt;
  int64_t e;
  if (exact_int(b, &e)) {
    if (a.exact && e > -100000 && e < 100000) {
      if (auto p = Rational::pow(a.q, e)) return Num::of(*p);
      if (a.q.is_zero() && e < 0) return std::nullopt;
    }
    return finite(std::pow(a.d, static_cast<double>(e)));
  }
  if (b.exact && a.exact) {
    // Rational exponent p/q: exact when a is a perfect q-th power.
    int64_t p, q;
    if (b.q.num().to_int64(&p) && b.q.den().to_int64(&q) && q <= 64 && p > -100000 && p < 100000) {
      if (auto r = Rational::root(a.q, q)) {
        if (auto v = Rational::pow(*r, p)) return Num::of(*v);
      }
      if (a.q.sign() < 0) {
        if (q % 2 == 0) return std::nullopt;
        double mag = std::pow(-a.d, static_cast<double>(p) / static_cast<double>(q));
        return finite(p % 2 == 0 ? mag : -mag);
      }
    }
  }
  if (a.d < 0) return std::nullopt;
  return finite(std::pow(a.d, b.d));
}

std::optional<Num> Evaluator::eval_scalar(int node) {
  auto v = eval(node);
  if (!v || v->is_matrix()) return std::nullopt;
  return v->cells[0];
}

namespace {

Value scalar(const Num& n) {
  Value v;
  v.cells.push_back(n);
  return v;
}

std::optional<Value> lift(const std::optional<Num>& n) {
  if (!n) return std::nullopt;
  return scalar(*n);
}

// Elementwise binary op with scalar broadcasting only where `broadcast` allows it.
std::optional<Value> combine(const Value& a, const Value& b,
                             const std::function<std::optional<Num>(const Num&, const Num&)>& op,
                             bool broadcast) {
  if (!a.is_matrix() && !b.is_matrix()) return lift(op(a.cells[0], b.cells[0]));
  Value r;
  if (a.is_matrix() && b.is_matrix()) {
    if (a.rows != b.rows || a.cols != b.cols) return std::nullopt;
    r.rows = a.rows;
    r.cols = a.cols;
    for (size_t i = 0; i < a.cells.size(); ++i) {
      auto c = op(a.cells[i], b.cells[i]);
      if (!c) return std::nullopt;
      r.cells.push_back(*c);
    }
    return r;
  }
  if (!broadcast) return std::nullopt;
  const Value& m = a.is_matrix() ? a : b;
  r.rows = m.rows;
  r.cols = m.cols;
  for (const Num& cell : m.cells) {
    auto c = a.is_matrix() ? op(cell, b.cells[0]) : op(a.cells[0], cell);
    if (!c) return std::nullopt;
    r.cells.push_back(*c);
  }
  return r;
}

std::optional<Value> matmul(const Value& a, const Value& b) {
  if (!a.is_matrix() || !b.is_matrix()) return combine(a, b, num_mul, true);
  if (a.cols != b.rows) return std::nullopt;
  Value r;
  r.rows = a.rows;
  r.cols = b.cols;
  for (int i = 0; i < a.rows; ++i) {
    for (int j = 0; j < b.cols; ++j) {
      Num acc = Num::of(Rational(0));
      for (int k = 0; k < a.cols; ++k) {
        auto p = num_mul(a.cells[static_cast<size_t>(i * a.cols + k)],
                         b.cells[static_cast<size_t>(k * b.cols + j)]);
        if (!p) return std::nullopt;
        auto s = num_add(acc, *p);
        if (!s) return std::nullopt;
        acc = *s;
      }
      r.cells.push_back(acc);
    }
  }
  return r;
}

// Deterministic pseudo-random function for undefined f(x): same name and arguments, same value.
double pseudo_function(const std::string& name, const std::vector<double>& args) {
  double h = 0.0;
  for (char c : name) h = h * 1.618033988749895 + static_cast<unsigned char>(c);
  double x = std::fmod(h, 97.0) * 0.173;
  for (size_t k = 0; k < args.size(); ++k) x += args[k] * (1.37 + 0.71 * static_cast<double>(k));
  return 1.5 + std::sin(1.9 * x + 0.3) + 0.25 * std::cos(0.7 * x);
}

}  // namespace

std::optional<Value> Evaluator::eval(int node) {
  if (!budget_->tick()) return std::nullopt;
  if (++depth_ > kMaxEvalDepth) {
    --depth_;
    return std::nullopt;
  }
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&depth_};
  const Node& n = e_.at(node);
  switch (n.kind) {
    case NodeKind::kNumber: {
      Num v = Num::of(n.value);
      if (n.decimals >= 0) {
        v.literal_decimals = n.decimals;
        // Significant digits: digits of value * 10^decimals without leading zeros.
        auto scaled = Rational::mul(n.value, *Rational::pow(Rational(10), n.decimals));
        if (scaled) {
          std::string digits = scaled->num().abs().to_string();
          v.literal_digits = static_cast<int>(digits.size());
        }
      }
      return scalar(v);
    }
    case NodeKind::kSymbol: {
      for (const auto& [name, value] : env_) {
        if (name == n.name) return scalar(value);
      }
      return std::nullopt;
    }
    case NodeKind::kConstant: {
      if (n.name == "pi") return scalar(Num::approx(kPi));
      if (n.name == "e") return scalar(Num::approx(kE));
      Num inf = Num::approx(HUGE_VAL);
      inf.inf = 1;
      return scalar(inf);
    }
    case NodeKind::kAdd: {
      std::optional<Value> acc;
      for (int kid : n.kids) {
        auto v = eval(kid);
        if (!v) return std::nullopt;
        if (!acc) {
          acc = *v;
          acc->cells[0].literal_decimals = -1;
          continue;
        }
        acc = combine(*acc, *v, num_add, false);
        if (!acc) return std::nullopt;
      }
      return acc;
    }
    case NodeKind::kMul: {
      std::optional<Value> acc;
      for (int kid : n.kids) {
        auto v = eval(kid);
        if (!v) return std::nullopt;
        if (!acc) {
          acc = *v;
          continue;
        }
        acc = matmul(*acc, *v);
        if (!acc) return std::nullopt;
      }
      if (acc && !acc->is_matrix()) acc->cells[0].literal_decimals = -1;
      return acc;
    }
    case NodeKind::kDiv: {
      auto a = eval(n.kids[0]);
      auto b = eval(n.kids[1]);
      if (!a || !b || b->is_matrix()) return std::nullopt;
      return combine(*a, *b, num_div, true);
    }
    case NodeKind::kPow: {
      auto a = eval(n.kids[0]);
      auto b = eval_scalar(n.kids[1]);
      if (!a || !b) return std::nullopt;
      if (a->is_matrix()) {
        int64_t k;
        if (!exact_int(*b, &k) || k < 1 || k > 16 || a->rows != a->cols) return std::nullopt;
        Value r = *a;
        for (int64_t i = 1; i < k; ++i) {
          auto m = matmul(r, *a);
          if (!m) return std::nullopt;
          r = *m;
        }
        return r;
      }
      return lift(num_pow(a->cells[0], *b));
    }
    case NodeKind::kNeg: {
      auto a = eval(n.kids[0]);
      if (!a) return std::nullopt;
      for (Num& c : a->cells) {
        c.q = c.q.negated();
        c.d = -c.d;
        c.inf = -c.inf;
      }
      return a;
    }
    case NodeKind::kPercent: {
      auto a = eval_scalar(n.kids[0]);
      if (!a) return std::nullopt;
      auto v = num_div(*a, Num::of(Rational(100)));
      if (v && a->literal_decimals >= 0) {  // "33.3%" is the decimal literal 0.333
        v->literal_decimals = a->literal_decimals + 2;
        v->literal_digits = a->literal_digits;
      }
      return lift(v);
    }
    case NodeKind::kFactorial: {
      auto a = eval_scalar(n.kids[0]);
      int64_t k;
      if (!a || !exact_int(*a, &k) || k < 0) return std::nullopt;
      if (k > 1000) return std::nullopt;  // far past BigInt::kMaxBits anyway
      Rational acc(1);
      for (int64_t i = 2; i <= k; ++i) {
        auto m = Rational::mul(acc, Rational(i));
        if (!m) return lift(finite(std::tgamma(static_cast<double>(k) + 1.0)));
        acc = *m;
      }
      return scalar(Num::of(acc));
    }
    case NodeKind::kFunc:
      return eval_func(n);
    case NodeKind::kApply: {
      std::vector<double> args;
      for (int kid : n.kids) {
        auto a = eval_scalar(kid);
        if (!a || a->inf != 0) return std::nullopt;
        args.push_back(a->d);
      }
      return scalar(Num::approx(pseudo_function(n.name, args)));
    }
    case NodeKind::kMatrix: {
      Value m;
      m.rows = n.rows;
      m.cols = n.cols;
      for (int kid : n.kids) {
        auto c = eval_scalar(kid);
        if (!c) return std::nullopt;
        m.cells.push_back(*c);
      }
      return m;
    }
    default:
      return std::nullopt;  // relations, tuples, sets, intervals, text
  }
}

std::optional<Value> Evaluator::eval_func(const Node& n) {
  std::vector<Num> args;
  for (int kid : n.kids) {
    auto a = eval_scalar(kid);
    if (!a) return std::nullopt;
    args.push_back(*a);
  }
  const std::string& f = n.name;
  if (args.empty()) return std::nullopt;
  const Num& x = args.back();
  if (f == "sqrt") return lift(nth_root(x, 2));
  if (f == "root") {
    int64_t k;
    if (!exact_int(args[0], &k) || k < 1 || k > 64) {
      auto inv = num_div(Num::of(Rational(1)), args[0]);
      if (!inv) return std::nullopt;
      return lift(num_pow(x, *inv));
    }
    return lift(nth_root(x, k));
  }
  if (f == "abs") {
    if (x.inf != 0) return std::nullopt;
    if (x.exact) return scalar(Num::of(x.q.sign() < 0 ? x.q.negated() : x.q));
    return scalar(Num::approx(std::fabs(x.d)));
  }
  if (f == "floor") return lift(floor_ceil(x, true));
  if (f == "ceil") return lift(floor_ceil(x, false));
  if (f == "binom") {
    int64_t nn, kk;
    if (args.size() != 2 || !exact_int(args[0], &nn) || !exact_int(args[1], &kk)) {
      return std::nullopt;
    }
    if (kk < 0 || nn < 0 || kk > nn) return scalar(Num::of(Rational(0)));
    kk = std::min(kk, nn - kk);
    if (kk > 2000) return std::nullopt;
    Rational acc(1);
    for (int64_t i = 1; i <= kk; ++i) {
      auto m = Rational::mul(acc, Rational(nn - kk + i));
      if (!m) return std::nullopt;
      auto d = Rational::div(*m, Rational(i));
      if (!d) return std::nullopt;
      acc = *d;
    }
    return scalar(Num::of(acc));
  }
  if (f == "max" || f == "min") {
    Num best = args[0];
    for (const Num& a : args) {
      bool better = f == "max" ? a.d > best.d : a.d < best.d;
      if (better) best = a;
    }
    return scalar(best);
  }
  if (f == "gcd" || f == "lcm") {
    BigInt acc(f == "gcd" ? 0 : 1);
    for (const Num& a : args) {
      if (!a.exact || !a.q.is_integer()) return std::nullopt;
      if (f == "gcd") {
        acc = BigInt::gcd(acc, a.q.num());
      } else {
        BigInt g = BigInt::gcd(acc, a.q.num());
        if (g.is_zero()) return scalar(Num::of(Rational(0)));
        auto p = BigInt::mul(acc, a.q.num().abs());
        if (!p) return std::nullopt;
        auto q = BigInt::divmod(*p, g, nullptr);
        if (!q) return std::nullopt;
        acc = *q;
      }
    }
    auto r = Rational::make(acc, BigInt(1));
    if (!r) return std::nullopt;
    return scalar(Num::of(*r));
  }
  if (x.inf != 0) return std::nullopt;
  const bool zero = x.exact && x.q.is_zero();
  const bool one = x.exact && x.q == Rational(1);
  const double v = x.d;
  if (f == "sin" || f == "tan" || f == "arcsin" || f == "arctan" || f == "sinh" || f == "tanh") {
    if (zero) return scalar(Num::of(Rational(0)));
  }
  if ((f == "cos" || f == "cosh" || f == "sec" || f == "exp") && zero) {
    return scalar(Num::of(Rational(1)));
  }
  if ((f == "ln" || f == "log" || f == "log10") && one) return scalar(Num::of(Rational(0)));
  if (f == "sin") return lift(finite(std::sin(v)));
  if (f == "cos") return lift(finite(std::cos(v)));
  if (f == "tan") return lift(finite(std::tan(v)));
  if (f == "sec") return lift(finite(1.0 / std::cos(v)));
  if (f == "csc") return lift(finite(1.0 / std::sin(v)));
  if (f == "cot") return lift(finite(1.0 / std::tan(v)));
  if (f == "arcsin") return lift(finite(std::asin(v)));
  if (f == "arccos") return lift(finite(std::acos(v)));
  if (f == "arctan") return lift(finite(std::atan(v)));
  if (f == "arcsec") return lift(finite(std::acos(1.0 / v)));
  if (f == "arccsc") return lift(finite(std::asin(1.0 / v)));
  if (f == "arccot") return lift(finite(std::atan(1.0 / v)));
  if (f == "sinh") return lift(finite(std::sinh(v)));
  if (f == "cosh") return lift(finite(std::cosh(v)));
  if (f == "tanh") return lift(finite(std::tanh(v)));
  if (f == "coth") return lift(finite(1.0 / std::tanh(v)));
  if (f == "sech") return lift(finite(1.0 / std::cosh(v)));
  if (f == "csch") return lift(finite(1.0 / std::sinh(v)));
  if (f == "exp") return lift(finite(std::exp(v)));
  if (f == "ln" || f == "log") return v > 0 ? lift(finite(std::log(v))) : std::nullopt;
  if (f == "log10") return v > 0 ? lift(finite(std::log10(v))) : std::nullopt;
  if (f == "logb") {
    double b = args[0].d;
    if (v <= 0 || b <= 0 || b == 1.0) return std::nullopt;
    return lift(finite(std::log(v) / std::log(b)));
  }
  return std::nullopt;
}

void collect_symbols(const MathExpr& e, int node, std::vector<std::string>* out) {
  std::vector<int> stack{node};
  std::vector<std::string> names;
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    const Node& n = e.at(i);
    if (n.kind == NodeKind::kSymbol) names.push_back(n.name);
    for (int k : n.kids) stack.push_back(k);
  }
  out->insert(out->end(), names.begin(), names.end());
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

}  // namespace forge::reward::math
