// Rational: an exact fraction of two BigInts, always normalised (gcd 1, positive denominator).
// Arithmetic returns std::nullopt when a result would exceed BigInt::kMaxBits or divides by zero;
// the evaluator then continues in floating point. Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reward/math/big_int.h"

namespace forge::reward::math {

class Rational {
 public:
  Rational() : num_(0), den_(1) {}
  explicit Rational(int64_t v) : num_(v), den_(1) {}
  // nullopt when den is zero.
  static std::optional<Rational> make(const BigInt& num, const BigInt& den);
  // Parses "123", "-4.50", ".5", "1e-3", "2.5E+4": the exact value of the decimal literal.
  // nullopt on malformed text or a value out of bounds.
  static std::optional<Rational> from_decimal(std::string_view text);

  const BigInt& num() const { return num_; }
  const BigInt& den() const { return den_; }
  bool is_zero() const { return num_.is_zero(); }
  bool is_integer() const { return den_ == BigInt(1); }
  int sign() const { return num_.sign(); }
  double to_double() const;
  std::string to_string() const;  // "3", "-7/2"

  Rational negated() const;
  static std::optional<Rational> add(const Rational& a, const Rational& b);
  static std::optional<Rational> sub(const Rational& a, const Rational& b);
  static std::optional<Rational> mul(const Rational& a, const Rational& b);
  static std::optional<Rational> div(const Rational& a, const Rational& b);
  // a^e for an integer exponent (negative allowed when a != 0).
  static std::optional<Rational> pow(const Rational& a, int64_t e);
  // The exact n-th root when a is a perfect n-th power (n >= 1; negative a only for odd n).
  static std::optional<Rational> root(const Rational& a, int64_t n);

  static int compare(const Rational& a, const Rational& b);
  friend bool operator==(const Rational& a, const Rational& b) {
    return a.num_ == b.num_ && a.den_ == b.den_;
  }

 private:
  Rational(BigInt num, BigInt den) : num_(std::move(num)), den_(std::move(den)) {}
  BigInt num_;
  BigInt den_;
};

}  // namespace forge::reward::math
