// Character classes and small string helpers shared by reward/math/. ASCII only, independent of
// the C locale: a byte >= 0x80 (UTF-8) is never a letter, digit or space. Whitespace is one set
// everywhere: space, \t, \n, \v, \f, \r. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace forge::reward::math {

inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
inline bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
inline char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s);
// `s` without leading and trailing whitespace.
std::string trim(std::string_view s);
// The first index at or after i that is not whitespace (s.size() if none).
size_t skip_spaces(std::string_view s, size_t i);

// Case-insensitive (ASCII): whether s[i..] starts with w; the first match at or after `from`; the
// last match starting before `before` (npos: anywhere). npos when there is none.
bool starts_with_ci(std::string_view s, size_t i, std::string_view w);
size_t find_ci(std::string_view s, std::string_view w, size_t from = 0);
size_t rfind_ci(std::string_view s, std::string_view w, size_t before = std::string_view::npos);

// Index just past the brace group that opens at s[i] == '{' (s.size() when unbalanced); "\{" and
// "\}" do not count.
size_t match_brace(std::string_view s, size_t i);

}  // namespace forge::reward::math
