#include "reward/math/math_tokenizer.h"

#include "reward/math/text.h"

namespace forge::reward::math {
namespace {

// Reads a number starting at s[i] (a digit, or '.' followed by a digit). Thousands separators
// ("1,000,000", "7 425 000") are merged when every later group has exactly three digits.
size_t scan_number(std::string_view s, size_t i, std::string* out) {
  const size_t n = s.size();
  size_t j = i;
  while (j < n && is_digit(s[j])) ++j;
  size_t int_len = j - i;
  out->assign(s.substr(i, int_len));
  bool leading_ok = int_len >= 1 && int_len <= 3 && !(s[i] == '0');
  bool prev_digit = i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.');
  if (leading_ok && !prev_digit) {
    for (char sep : {',', ' '}) {
      size_t k = j;
      int groups = 0;
      std::string merged = *out;
      while (k + 3 < n + 0 && s[k] == sep && is_digit(s[k + 1]) && is_digit(s[k + 2]) &&
             is_digit(s[k + 3]) && (k + 4 >= n || !is_digit(s[k + 4]))) {
        if (sep == ' ' && k + 4 < n && (s[k + 4] == '/' || s[k + 4] == '.')) break;
        merged.append(s.substr(k + 1, 3));
        k += 4;
        ++groups;
      }
      if (groups == 0) continue;
      if (sep == ',' && k + 1 < n && s[k] == ',' && is_digit(s[k + 1])) break;  // "1,234,5"
      *out = merged;
      j = k;
      break;
    }
  }
  if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
    size_t k = j + 1;
    while (k < n && is_digit(s[k])) ++k;
    out->append(s.substr(j, k - j));
    j = k;
  }
  // Scientific notation: 1.5e10, 2E-3, 6.02e+23 (a lowercase e with a sign needs a decimal point,
  // so that "2e-1" stays 2e - 1).
  if (j < n && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    bool sign = k < n && (s[k] == '+' || s[k] == '-');
    if (sign) ++k;
    bool has_dot = out->find('.') != std::string::npos;
    if (k < n && is_digit(s[k]) && (s[j] == 'E' || !sign || has_dot)) {
      size_t m = k;
      while (m < n && is_digit(s[m])) ++m;
      if (m >= n || !is_alpha(s[m])) {
        out->append(s.substr(j, m - j));
        j = m;
      }
    }
  }
  return j;
}

}  // namespace

std::vector<Token> tokenize_answer(std::string_view s) {
  std::vector<Token> toks;
  const size_t n = s.size();
  size_t i = 0;
  bool space = false;
  while (i < n) {
    char c = s[i];
    if (is_space(c)) {
      space = true;
      ++i;
      continue;
    }
    Token t;
    t.space_before = space;
    space = false;
    if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(s[i + 1]))) {
      t.kind = TokenKind::kNumber;
      i = scan_number(s, i, &t.text);
    } else if (c == '.' && i + 2 < n && s[i + 1] == '.' && s[i + 2] == '.') {
      t.kind = TokenKind::kWord;
      t.text = "...";
      i += 3;
      while (i < n && s[i] == '.') ++i;
    } else if (is_alpha(c)) {
      size_t j = i;
      while (j < n && is_alpha(s[j])) ++j;
      t.kind = TokenKind::kWord;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (c == '\\') {
      if (i + 1 < n && is_alpha(s[i + 1])) {
        size_t j = i + 1;
        while (j < n && is_alpha(s[j])) ++j;
        t.kind = TokenKind::kCmd;
        t.text = std::string(s.substr(i + 1, j - i - 1));
        i = j;
      } else if (i + 1 < n) {
        char d = s[i + 1];
        if (d == '{' || d == '}' || d == '\\') {
          t.kind = TokenKind::kCmd;
          t.text = std::string(1, d);
        } else {
          t.kind = TokenKind::kChar;
          t.text = std::string(1, d);
        }
        i += 2;
      } else {
        ++i;
        continue;
      }
    } else {
      t.kind = TokenKind::kChar;
      t.text = std::string(1, c);
      ++i;
    }
    toks.push_back(std::move(t));
  }
  return toks;
}

}  // namespace forge::reward::math
