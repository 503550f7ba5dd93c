#include "reward/math/rational.h"

#include <cmath>

namespace forge::reward::math {
namespace {

// Integer n-th root of a non-negative BigInt when exact, by Newton's method seeded from double.
std::optional<BigInt> exact_int_root(const BigInt& a, int64_t n) {
  if (a.is_zero()) return BigInt();
  if (n == 1) return a;
  if (a.bit_length() > 1000) return std::nullopt;  // keep the search cheap
  double approx = std::pow(a.to_double(), 1.0 / static_cast<double>(n));
  if (!std::isfinite(approx) || approx > 9.0e15) return std::nullopt;
  int64_t guess = static_cast<int64_t>(std::llround(approx));
  for (int64_t c = guess - 1; c <= guess + 1; ++c) {
    if (c < 0) continue;
    auto p = BigInt::pow(BigInt(c), static_cast<uint64_t>(n));
    if (p && *p == a) return BigInt(c);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Rational> Rational::make(const BigInt& num, const BigInt& den) {
  if (den.is_zero()) return std::nullopt;
  BigInt g = BigInt::gcd(num, den);
  BigInt n = num, d = den;
  if (!(g == BigInt(1))) {
    auto qn = BigInt::divmod(num, g, nullptr);
    auto qd = BigInt::divmod(den, g, nullptr);
    if (!qn || !qd) return std::nullopt;
    n = std::move(*qn);
    d = std::move(*qd);
  }
  if (d.is_negative()) {
    n = n.negated();
    d = d.negated();
  }
  return Rational(std::move(n), std::move(d));
}

std::optional<Rational> Rational::from_decimal(std::string_view text) {
  bool neg = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    neg = text[0] == '-';
    text.remove_prefix(1);
  }
  int64_t exp10 = 0;
  size_t e = text.find_first_of("eE");
  if (e != std::string_view::npos) {
    std::string_view ex = text.substr(e + 1);
    text = text.substr(0, e);
    bool eneg = false;
    if (!ex.empty() && (ex[0] == '-' || ex[0] == '+')) {
      eneg = ex[0] == '-';
      ex.remove_prefix(1);
    }
    if (ex.empty() || ex.size() > 6) return std::nullopt;
    for (char c : ex) {
      if (c < '0' || c > '9') return std::nullopt;
      exp10 = exp10 * 10 + (c - '0');
    }
    if (eneg) exp10 = -exp10;
  }
  std::string digits;
  size_t dot = text.find('.');
  std::string_view int_part = text.substr(0, dot);
  std::string_view frac_part = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) return std::nullopt;
  digits.reserve(int_part.size() + frac_part.size());
  digits.append(int_part);
  digits.append(frac_part);
  exp10 -= static_cast<int64_t>(frac_part.size());
  if (exp10 > 1300 || exp10 < -1300) return std::nullopt;
  auto mant = BigInt::from_decimal(digits);
  if (!mant) return std::nullopt;
  if (neg) *mant = mant->negated();
  auto scale = BigInt::pow(BigInt(10), static_cast<uint64_t>(exp10 < 0 ? -exp10 : exp10));
  if (!scale) return std::nullopt;
  if (exp10 >= 0) {
    auto n = BigInt::mul(*mant, *scale);
    if (!n) return std::nullopt;
    return Rational(std::move(*n), BigInt(1));
  }
  return make(*mant, *scale);
}

double Rational::to_double() const {
  int64_t n, d;
  if (num_.to_int64(&n) && den_.to_int64(&d)) {
    return static_cast<double>(n) / static_cast<double>(d);
  }
  // Scale both down to keep the quotient finite when each alone would overflow a double.
  int shift = std::max(num_.bit_length(), den_.bit_length()) - 1000;
  if (shift <= 0) return num_.to_double() / den_.to_double();
  double nd = num_.to_double(), dd = den_.to_double();
  if (std::isfinite(nd) && std::isfinite(dd)) return nd / dd;
  int nb = num_.bit_length(), db = den_.bit_length();
  double sign = num_.is_negative() ? -1.0 : 1.0;
  return sign * std::ldexp(1.0, nb - db);  // magnitude estimate only; both are huge
}

std::string Rational::to_string() const {
  if (is_integer()) return num_.to_string();
  return num_.to_string() + "/" + den_.to_string();
}

Rational Rational::negated() const { return Rational(num_.negated(), den_); }

std::optional<Rational> Rational::add(const Rational& a, const Rational& b) {
  if (a.is_integer() && b.is_integer()) {
    auto s = BigInt::add(a.num_, b.num_);
    if (!s) return std::nullopt;
    return Rational(std::move(*s), BigInt(1));
  }
  auto x = BigInt::mul(a.num_, b.den_);
  auto y = BigInt::mul(b.num_, a.den_);
  auto d = BigInt::mul(a.den_, b.den_);
  if (!x || !y || !d) return std::nullopt;
  auto n = BigInt::add(*x, *y);
  if (!n) return std::nullopt;
  return make(*n, *d);
}

std::optional<Rational> Rational::sub(const Rational& a, const Rational& b) {
  return add(a, b.negated());
}

std::optional<Rational> Rational::mul(const Rational& a, const Rational& b) {
  auto n = BigInt::mul(a.num_, b.num_);
  auto d = BigInt::mul(a.den_, b.den_);
  if (!n || !d) return std::nullopt;
  if (d->is_zero()) return std::nullopt;
  if (a.is_integer() && b.is_integer()) return Rational(std::move(*n), BigInt(1));
  return make(*n, *d);
}

std::optional<Rational> Rational::div(const Rational& a, const Rational& b) {
  if (b.is_zero()) return std::nullopt;
  auto n = BigInt::mul(a.num_, b.den_);
  auto d = BigInt::mul(a.den_, b.num_);
  if (!n || !d) return std::nullopt;
  return make(*n, *d);
}

std::optional<Rational> Rational::pow(const Rational& a, int64_t e) {
  if (e == 0) return Rational(1);
  if (a.is_zero()) {
    if (e < 0) return std::nullopt;
    return Rational();
  }
  uint64_t m = e < 0 ? static_cast<uint64_t>(-(e + 1)) + 1 : static_cast<uint64_t>(e);
  auto n = BigInt::pow(a.num_, m);
  auto d = BigInt::pow(a.den_, m);
  if (!n || !d) return std::nullopt;
  if (e < 0) return make(*d, *n);
  return Rational(std::move(*n), std::move(*d));
}

std::optional<Rational> Rational::root(const Rational& a, int64_t n) {
  if (n < 1 || n > 64) return std::nullopt;
  if (n == 1) return a;
  bool neg = a.sign() < 0;
  if (neg && n % 2 == 0) return std::nullopt;
  auto rn = exact_int_root(a.num_.abs(), n);
  if (!rn) return std::nullopt;
  auto rd = exact_int_root(a.den_, n);
  if (!rd) return std::nullopt;
  return Rational(neg ? rn->negated() : *rn, *rd);
}

int Rational::compare(const Rational& a, const Rational& b) {
  auto x = BigInt::mul(a.num_, b.den_);
  auto y = BigInt::mul(b.num_, a.den_);
  if (!x || !y) {
    double p = a.to_double(), q = b.to_double();
    return p < q ? -1 : (p > q ? 1 : 0);
  }
  return BigInt::compare(*x, *y);
}

}  // namespace forge::reward::math
