#include "reward/math/big_int.h"

#include <algorithm>
#include <cmath>

namespace forge::reward::math {
namespace {

constexpr uint64_t kBase = uint64_t{1} << 32;

// Builds a BigInt magnitude from an unsigned 128-bit value.
std::vector<uint32_t> mag_from_u128(unsigned __int128 v) {
  std::vector<uint32_t> out;
  while (v != 0) {
    out.push_back(static_cast<uint32_t>(v));
    v >>= 32;
  }
  return out;
}

int nlz32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

}  // namespace

BigInt::BigInt(int64_t v) {
  neg_ = v < 0;
  uint64_t m = neg_ ? (~static_cast<uint64_t>(v) + 1) : static_cast<uint64_t>(v);
  while (m != 0) {
    mag_.push_back(static_cast<uint32_t>(m));
    m >>= 32;
  }
}

std::optional<BigInt> BigInt::from_decimal(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  while (s.size() > 1 && s[0] == '0') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  // log2(10) ~ 3.3219: reject before doing any quadratic work.
  if (static_cast<double>(s.size()) * 3.3219280948873622 > kMaxBits + 4) return std::nullopt;
  BigInt r;
  size_t i = 0;
  while (i < s.size()) {
    size_t len = std::min<size_t>(9, s.size() - i);
    uint32_t chunk = 0;
    uint32_t scale = 1;
    for (size_t k = 0; k < len; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return std::nullopt;
      chunk = chunk * 10 + static_cast<uint32_t>(c - '0');
      scale *= 10;
    }
    uint64_t carry = chunk;
    for (uint32_t& limb : r.mag_) {
      uint64_t t = static_cast<uint64_t>(limb) * scale + carry;
      limb = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    if (carry != 0) r.mag_.push_back(static_cast<uint32_t>(carry));
    i += len;
  }
  trim(&r.mag_);
  if (too_big(r.mag_)) return std::nullopt;
  r.neg_ = neg && !r.mag_.empty();
  return r;
}

int BigInt::bit_length() const {
  if (mag_.empty()) return 0;
  return static_cast<int>(mag_.size()) * 32 - nlz32(mag_.back());
}

bool BigInt::to_int64(int64_t* out) const {
  if (mag_.size() > 2) return false;
  uint64_t m = 0;
  if (!mag_.empty()) m = mag_[0];
  if (mag_.size() == 2) m |= static_cast<uint64_t>(mag_[1]) << 32;
  if (!neg_) {
    if (m > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(m);
  } else {
    if (m > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(~m + 1);
  }
  return true;
}

double BigInt::to_double() const {
  double r = 0.0;
  for (size_t i = mag_.size(); i-- > 0;) r = r * static_cast<double>(kBase) + mag_[i];
  return neg_ ? -r : r;
}

std::string BigInt::to_string() const {
  if (mag_.empty()) return "0";
  std::vector<uint32_t> m = mag_;
  std::vector<uint32_t> chunks;  // base 1e9, least significant first
  while (!m.empty()) {
    uint64_t rem = 0;
    for (size_t i = m.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | m[i];
      m[i] = static_cast<uint32_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    trim(&m);
    chunks.push_back(static_cast<uint32_t>(rem));
  }
  std::string out = neg_ ? "-" : "";
  out += std::to_string(chunks.back());
  for (size_t i = chunks.size() - 1; i-- > 0;) {
    std::string part = std::to_string(chunks[i]);
    out.append(9 - part.size(), '0');
    out += part;
  }
  return out;
}

BigInt BigInt::negated() const {
  BigInt r = *this;
  if (!r.mag_.empty()) r.neg_ = !r.neg_;
  return r;
}

BigInt BigInt::abs() const {
  BigInt r = *this;
  r.neg_ = false;
  return r;
}

void BigInt::trim(std::vector<uint32_t>* v) {
  while (!v->empty() && v->back() == 0) v->pop_back();
}

bool BigInt::too_big(const std::vector<uint32_t>& v) {
  if (v.empty()) return false;
  return static_cast<int>(v.size()) * 32 - nlz32(v.back()) > kMaxBits;
}

int BigInt::compare_mag(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

int BigInt::compare(const BigInt& a, const BigInt& b) {
  if (a.neg_ != b.neg_) return a.neg_ ? -1 : 1;
  int c = compare_mag(a.mag_, b.mag_);
  return a.neg_ ? -c : c;
}

std::vector<uint32_t> BigInt::add_mag(const std::vector<uint32_t>& a,
                                      const std::vector<uint32_t>& b) {
  const std::vector<uint32_t>& l = a.size() >= b.size() ? a : b;
  const std::vector<uint32_t>& s = a.size() >= b.size() ? b : a;
  std::vector<uint32_t> out(l.size() + 1);
  uint64_t carry = 0;
  for (size_t i = 0; i < l.size(); ++i) {
    uint64_t t = static_cast<uint64_t>(l[i]) + (i < s.size() ? s[i] : 0) + carry;
    out[i] = static_cast<uint32_t>(t);
    carry = t >> 32;
  }
  out[l.size()] = static_cast<uint32_t>(carry);
  trim(&out);
  return out;
}

std::vector<uint32_t> BigInt::sub_mag(const std::vector<uint32_t>& a,
                                      const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out(a.size());
  int64_t borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int64_t t = static_cast<int64_t>(a[i]) - (i < b.size() ? b[i] : 0) - borrow;
    borrow = t < 0 ? 1 : 0;
    out[i] = static_cast<uint32_t>(t + (borrow ? static_cast<int64_t>(kBase) : 0));
  }
  trim(&out);
  return out;
}

std::optional<BigInt> BigInt::add(const BigInt& a, const BigInt& b) {
  int64_t x, y;
  if (a.to_int64(&x) && b.to_int64(&y)) {
    __int128 s = static_cast<__int128>(x) + y;
    BigInt r;
    r.neg_ = s < 0;
    r.mag_ = mag_from_u128(s < 0 ? static_cast<unsigned __int128>(-s)
                                 : static_cast<unsigned __int128>(s));
    return r;
  }
  BigInt r;
  if (a.neg_ == b.neg_) {
    r.mag_ = add_mag(a.mag_, b.mag_);
    r.neg_ = a.neg_;
  } else {
    int c = compare_mag(a.mag_, b.mag_);
    if (c == 0) return BigInt();
    if (c > 0) {
      r.mag_ = sub_mag(a.mag_, b.mag_);
      r.neg_ = a.neg_;
    } else {
      r.mag_ = sub_mag(b.mag_, a.mag_);
      r.neg_ = b.neg_;
    }
  }
  if (too_big(r.mag_)) return std::nullopt;
  if (r.mag_.empty()) r.neg_ = false;
  return r;
}

std::optional<BigInt> BigInt::sub(const BigInt& a, const BigInt& b) { return add(a, b.negated()); }

std::optional<BigInt> BigInt::mul(const BigInt& a, const BigInt& b) {
  if (a.is_zero() || b.is_zero()) return BigInt();
  int64_t x, y;
  if (a.to_int64(&x) && b.to_int64(&y)) {
    __int128 p = static_cast<__int128>(x) * y;
    BigInt r;
    r.neg_ = p < 0;
    r.mag_ = mag_from_u128(p < 0 ? static_cast<unsigned __int128>(-p)
                                 : static_cast<unsigned __int128>(p));
    return r;
  }
  if (a.bit_length() + b.bit_length() > kMaxBits + 1) return std::nullopt;
  std::vector<uint32_t> out(a.mag_.size() + b.mag_.size(), 0);
  for (size_t i = 0; i < a.mag_.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b.mag_.size(); ++j) {
      uint64_t t = static_cast<uint64_t>(a.mag_[i]) * b.mag_[j] + out[i + j] + carry;
      out[i + j] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    out[i + b.mag_.size()] = static_cast<uint32_t>(carry);
  }
  trim(&out);
  if (too_big(out)) return std::nullopt;
  BigInt r;
  r.mag_ = std::move(out);
  r.neg_ = a.neg_ != b.neg_;
  return r;
}

std::optional<BigInt> BigInt::divmod(const BigInt& a, const BigInt& b, BigInt* remainder) {
  if (b.is_zero()) return std::nullopt;
  int64_t x, y;
  if (a.to_int64(&x) && b.to_int64(&y) && !(x == INT64_MIN && y == -1)) {
    if (remainder != nullptr) *remainder = BigInt(x % y);
    return BigInt(x / y);
  }
  BigInt q, r;
  if (compare_mag(a.mag_, b.mag_) < 0) {
    r = a;
  } else if (b.mag_.size() == 1) {
    uint64_t d = b.mag_[0];
    q.mag_.assign(a.mag_.size(), 0);
    uint64_t rem = 0;
    for (size_t i = a.mag_.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | a.mag_[i];
      q.mag_[i] = static_cast<uint32_t>(cur / d);
      rem = cur % d;
    }
    trim(&q.mag_);
    r.mag_ = mag_from_u128(rem);
    r.neg_ = a.neg_ && !r.mag_.empty();
  } else {
    // Knuth, TAOCP vol. 2, 4.3.1, Algorithm D (normalise, estimate each quotient limb from the top
    // two limbs, correct at most twice, multiply-subtract, add back on a negative remainder).
    const std::vector<uint32_t>& u = a.mag_;
    const std::vector<uint32_t>& v = b.mag_;
    const size_t m = u.size();
    const size_t n = v.size();
    const int s = nlz32(v[n - 1]);
    std::vector<uint32_t> vn(n), un(m + 1);
    for (size_t i = n - 1; i > 0; --i) {
      vn[i] = static_cast<uint32_t>((static_cast<uint64_t>(v[i]) << s) |
                                    (static_cast<uint64_t>(v[i - 1]) >> (32 - s)));
    }
    vn[0] = static_cast<uint32_t>(static_cast<uint64_t>(v[0]) << s);
    un[m] = static_cast<uint32_t>(static_cast<uint64_t>(u[m - 1]) >> (32 - s));
    for (size_t i = m - 1; i > 0; --i) {
      un[i] = static_cast<uint32_t>((static_cast<uint64_t>(u[i]) << s) |
                                    (static_cast<uint64_t>(u[i - 1]) >> (32 - s)));
    }
    un[0] = static_cast<uint32_t>(static_cast<uint64_t>(u[0]) << s);
    q.mag_.assign(m - n + 1, 0);
    for (size_t j = m - n + 1; j-- > 0;) {
      uint64_t num = (static_cast<uint64_t>(un[j + n]) << 32) | un[j + n - 1];
      uint64_t qhat = num / vn[n - 1];
      uint64_t rhat = num % vn[n - 1];
      while (qhat >= kBase || qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2])) {
        --qhat;
        rhat += vn[n - 1];
        if (rhat >= kBase) break;
      }
      int64_t k = 0;
      int64_t t = 0;
      for (size_t i = 0; i < n; ++i) {
        uint64_t p = qhat * vn[i];
        t = static_cast<int64_t>(un[i + j]) - k - static_cast<int64_t>(p & 0xFFFFFFFFu);
        un[i + j] = static_cast<uint32_t>(t);
        k = static_cast<int64_t>(p >> 32) - (t >> 32);
      }
      t = static_cast<int64_t>(un[j + n]) - k;
      un[j + n] = static_cast<uint32_t>(t);
      if (t < 0) {
        --qhat;
        uint64_t c = 0;
        for (size_t i = 0; i < n; ++i) {
          uint64_t sum = static_cast<uint64_t>(un[i + j]) + vn[i] + c;
          un[i + j] = static_cast<uint32_t>(sum);
          c = sum >> 32;
        }
        un[j + n] = static_cast<uint32_t>(static_cast<uint64_t>(un[j + n]) + c);
      }
      q.mag_[j] = static_cast<uint32_t>(qhat);
    }
    trim(&q.mag_);
    r.mag_.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      r.mag_[i] = static_cast<uint32_t>(
          (static_cast<uint64_t>(un[i]) >> s) |
          ((static_cast<uint64_t>(un[i + 1]) << (32 - s)) & (s == 0 ? 0 : 0xFFFFFFFFull)));
    }
    trim(&r.mag_);
    r.neg_ = a.neg_ && !r.mag_.empty();
  }
  q.neg_ = (a.neg_ != b.neg_) && !q.mag_.empty();
  if (remainder != nullptr) *remainder = r;
  return q;
}

BigInt BigInt::gcd(const BigInt& a, const BigInt& b) {
  BigInt x = a.abs();
  BigInt y = b.abs();
  while (!y.is_zero()) {
    int64_t xs, ys;
    if (x.to_int64(&xs) && y.to_int64(&ys)) {
      uint64_t p = static_cast<uint64_t>(xs), q = static_cast<uint64_t>(ys);
      while (q != 0) {
        uint64_t t = p % q;
        p = q;
        q = t;
      }
      return BigInt(static_cast<int64_t>(p));
    }
    BigInt r;
    divmod(x, y, &r);
    x = std::move(y);
    y = r.abs();
  }
  return x;
}

std::optional<BigInt> BigInt::pow(const BigInt& a, uint64_t e) {
  if (e == 0) return BigInt(1);
  if (a.is_zero()) return BigInt();
  if (a.mag_.size() == 1 && a.mag_[0] == 1) {
    return (a.neg_ && (e & 1)) ? BigInt(-1) : BigInt(1);
  }
  // |a| >= 2: the result has at least e * (bit_length - 1) + 1 bits.
  if (static_cast<double>(e) * (a.bit_length() - 1) > kMaxBits) return std::nullopt;
  BigInt result(1);
  BigInt base = a;
  while (true) {
    if (e & 1) {
      auto r = mul(result, base);
      if (!r) return std::nullopt;
      result = std::move(*r);
    }
    e >>= 1;
    if (e == 0) break;
    auto sq = mul(base, base);
    if (!sq) return std::nullopt;
    base = std::move(*sq);
  }
  return result;
}

}  // namespace forge::reward::math
