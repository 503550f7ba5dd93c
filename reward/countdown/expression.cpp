#include "reward/countdown/expression.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace forge::reward::countdown {
namespace {

int64_t gcd64(int64_t a, int64_t b) {
  a = a < 0 ? -a : a;
  b = b < 0 ? -b : b;
  while (b != 0) {
    const int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// Builds num/den in lowest terms with den > 0; false on overflow or den == 0.
bool make_rational(int64_t num, int64_t den, Rational* out) {
  if (den == 0) return false;
  if (num == INT64_MIN || den == INT64_MIN) return false;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const int64_t g = gcd64(num, den);
  out->num = g == 0 ? 0 : num / g;
  out->den = g == 0 ? 1 : den / g;
  return true;
}

bool rational_apply(const Rational& a, char op, const Rational& b, Rational* out) {
  int64_t x, y, d;
  switch (op) {
    case '+':
    case '-': {
      if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(b.num, a.den, &y) ||
          __builtin_mul_overflow(a.den, b.den, &d)) {
        return false;
      }
      int64_t n;
      if (op == '+' ? __builtin_add_overflow(x, y, &n) : __builtin_sub_overflow(x, y, &n)) {
        return false;
      }
      return make_rational(n, d, out);
    }
    case '*':
      if (__builtin_mul_overflow(a.num, b.num, &x) || __builtin_mul_overflow(a.den, b.den, &d)) {
        return false;
      }
      return make_rational(x, d, out);
    case '/':
      if (b.num == 0) return false;
      if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(a.den, b.num, &d)) {
        return false;
      }
      return make_rational(x, d, out);
  }
  return false;
}

// Recursive descent: expr := term (('+'|'-') term)*; term := factor (('*'|'/') factor)*;
// factor := integer | '(' expr ')'.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<EvaluatedExpression> run() {
    EvaluatedExpression result;
    absl::StatusOr<Rational> v = expr(0);
    if (!v.ok()) return v.status();
    skip_spaces();
    if (pos_ != text_.size()) return syntax("unexpected character");
    result.value = *v;
    result.literals = std::move(literals_);
    return result;
  }

 private:
  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  absl::Status syntax(const char* what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("expression '", std::string(text_), "': ", what, " at position ", pos_));
  }
  absl::Status overflow() const {
    return absl::OutOfRangeError(
        absl::StrCat("expression '", std::string(text_), "': overflow or division by zero"));
  }

  absl::StatusOr<Rational> expr(int depth) {
    absl::StatusOr<Rational> left = term(depth);
    if (!left.ok()) return left;
    Rational acc = *left;
    while (true) {
      skip_spaces();
      if (pos_ >= text_.size() || (text_[pos_] != '+' && text_[pos_] != '-')) return acc;
      const char op = text_[pos_++];
      absl::StatusOr<Rational> right = term(depth);
      if (!right.ok()) return right;
      if (!rational_apply(acc, op, *right, &acc)) return overflow();
    }
  }

  absl::StatusOr<Rational> term(int depth) {
    absl::StatusOr<Rational> left = factor(depth);
    if (!left.ok()) return left;
    Rational acc = *left;
    while (true) {
      skip_spaces();
      if (pos_ >= text_.size() || (text_[pos_] != '*' && text_[pos_] != '/')) return acc;
      const char op = text_[pos_++];
      absl::StatusOr<Rational> right = factor(depth);
      if (!right.ok()) return right;
      if (!rational_apply(acc, op, *right, &acc)) return overflow();
    }
  }

  absl::StatusOr<Rational> factor(int depth) {
    skip_spaces();
    if (pos_ >= text_.size()) return syntax("expected a number or '('");
    if (text_[pos_] == '(') {
      if (depth + 1 > kMaxExpressionDepth) return syntax("nested too deeply");
      ++pos_;
      absl::StatusOr<Rational> inner = expr(depth + 1);
      if (!inner.ok()) return inner;
      skip_spaces();
      if (pos_ >= text_.size() || text_[pos_] != ')') return syntax("expected ')'");
      ++pos_;
      return inner;
    }
    if (text_[pos_] < '0' || text_[pos_] > '9') return syntax("expected a number or '('");
    int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (__builtin_mul_overflow(value, int64_t{10}, &value) ||
          __builtin_add_overflow(value, int64_t{text_[pos_] - '0'}, &value)) {
        return overflow();
      }
      ++pos_;
    }
    literals_.push_back(value);
    return Rational{value, 1};
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<int64_t> literals_;
};

}  // namespace

absl::StatusOr<EvaluatedExpression> evaluate_expression(std::string_view text) {
  if (text.size() > kMaxExpressionLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("expression is longer than ", kMaxExpressionLength, " characters"));
  }
  return Parser(text).run();
}

bool checked_apply(int64_t a, char op, int64_t b, int64_t* out) {
  switch (op) {
    case '+':
      return !__builtin_add_overflow(a, b, out);
    case '-':
      return !__builtin_sub_overflow(a, b, out);
    case '*':
      return !__builtin_mul_overflow(a, b, out);
    case '/':
      if (b == 0 || (a == INT64_MIN && b == -1) || a % b != 0) return false;
      *out = a / b;
      return true;
  }
  return false;
}

std::string_view strip_whitespace(std::string_view text) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

bool parse_int64(std::string_view text, int64_t* out) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  if (i == text.size()) return false;
  int64_t value = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    if (__builtin_mul_overflow(value, int64_t{10}, &value) ||
        __builtin_sub_overflow(value, int64_t{c - '0'}, &value)) {
      return false;
    }
  }
  if (!negative) {
    if (value == INT64_MIN) return false;
    value = -value;
  }
  *out = value;
  return true;
}

}  // namespace forge::reward::countdown
