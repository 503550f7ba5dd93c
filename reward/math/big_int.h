// BigInt: a signed arbitrary-precision integer with a hard size bound, for the math grader's exact
// rational arithmetic. Every operation that would exceed kMaxBits returns std::nullopt instead of
// growing, so a 10,000-digit literal or 7^(10^9) costs bounded time and memory: the caller then
// falls back to floating point or "cannot decide".
//
// Representation: sign + magnitude in base 2^32 limbs, least significant first, no leading zero
// limbs (zero is an empty magnitude, never negative). Values that fit in 64 bits take fast paths.
// Thread-safety: a value type; distinct objects may be used from different threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forge::reward::math {

class BigInt {
 public:
  // 4096 bits is about 1233 decimal digits: far beyond any competition answer, small enough that
  // schoolbook multiplication and division stay in the microseconds.
  static constexpr int kMaxBits = 4096;

  BigInt() = default;
  explicit BigInt(int64_t v);

  // Parses an optional '-' then decimal digits. nullopt for an empty string, other characters,
  // or a value over kMaxBits.
  static std::optional<BigInt> from_decimal(std::string_view digits);

  bool is_zero() const { return mag_.empty(); }
  bool is_negative() const { return neg_; }
  int sign() const { return neg_ ? -1 : (mag_.empty() ? 0 : 1); }
  int bit_length() const;
  // True when the value fits in int64_t; stores it in *out.
  bool to_int64(int64_t* out) const;
  double to_double() const;
  std::string to_string() const;

  BigInt negated() const;
  BigInt abs() const;

  static std::optional<BigInt> add(const BigInt& a, const BigInt& b);
  static std::optional<BigInt> sub(const BigInt& a, const BigInt& b);
  static std::optional<BigInt> mul(const BigInt& a, const BigInt& b);
  // Truncating division (C semantics: quotient rounds toward zero, remainder has the sign of a).
  // nullopt when b is zero.
  static std::optional<BigInt> divmod(const BigInt& a, const BigInt& b, BigInt* remainder);
  static BigInt gcd(const BigInt& a, const BigInt& b);  // non-negative; gcd(0, 0) = 0
  // a^e for e >= 0; nullopt when the result would exceed kMaxBits.
  static std::optional<BigInt> pow(const BigInt& a, uint64_t e);

  static int compare(const BigInt& a, const BigInt& b);
  friend bool operator==(const BigInt& a, const BigInt& b) { return compare(a, b) == 0; }
  friend bool operator!=(const BigInt& a, const BigInt& b) { return compare(a, b) != 0; }

 private:
  static int compare_mag(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
  static std::vector<uint32_t> add_mag(const std::vector<uint32_t>& a,
                                       const std::vector<uint32_t>& b);
  // Requires |a| >= |b|.
  static std::vector<uint32_t> sub_mag(const std::vector<uint32_t>& a,
                                       const std::vector<uint32_t>& b);
  static void trim(std::vector<uint32_t>* v);
  static bool too_big(const std::vector<uint32_t>& v);

  bool neg_ = false;
  std::vector<uint32_t> mag_;
};

}  // namespace forge::reward::math
