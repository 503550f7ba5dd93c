#include "reward/math/text.h"

#include <algorithm>

namespace forge::reward::math {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

size_t skip_spaces(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

bool starts_with_ci(std::string_view s, size_t i, std::string_view w) {
  if (i > s.size() || w.size() > s.size() - i) return false;
  for (size_t k = 0; k < w.size(); ++k) {
    if (to_lower(s[i + k]) != to_lower(w[k])) return false;
  }
  return true;
}

size_t find_ci(std::string_view s, std::string_view w, size_t from) {
  for (size_t i = from; i + w.size() <= s.size(); ++i) {
    if (starts_with_ci(s, i, w)) return i;
  }
  return std::string_view::npos;
}

size_t rfind_ci(std::string_view s, std::string_view w, size_t before) {
  if (w.size() > s.size()) return std::string_view::npos;
  const size_t start =
      std::min(before == std::string_view::npos ? s.size() : before, s.size() - w.size() + 1);
  for (size_t i = start; i-- > 0;) {
    if (starts_with_ci(s, i, w)) return i;
  }
  return std::string_view::npos;
}

size_t match_brace(std::string_view s, size_t i) {
  int depth = 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] == '\\' && k + 1 < s.size()) {
      ++k;
      continue;
    }
    if (s[k] == '{') ++depth;
    if (s[k] == '}' && --depth == 0) return k + 1;
  }
  return s.size();
}

}  // namespace forge::reward::math
