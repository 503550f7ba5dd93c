#include "reward/math/latex_spans.h"

#include "reward/math/text.h"

#include <algorithm>

namespace forge::reward::math {
namespace {

constexpr size_t npos = std::string_view::npos;

}  // namespace

// A percent marker right after position i ("%", "\%", "percent", "pct"), possibly after spaces
// and closing dollars.
bool percent_after(std::string_view s, size_t i) {
  while (i < s.size() && (is_space(s[i]) || s[i] == '$')) ++i;
  if (i < s.size() && s[i] == '%') return true;
  if (starts_with_ci(s, i, "\\%")) return true;
  return starts_with_ci(s, i, "percent") || starts_with_ci(s, i, "pct");
}

std::vector<Span> find_boxes(std::string_view s) {
  std::vector<Span> boxes;
  size_t i = 0;
  while (i < s.size()) {
    size_t b = s.find("\\boxed", i);
    size_t f = s.find("\\fbox", i);
    size_t at = std::min(b, f);
    if (at == npos) break;
    size_t j = at + (at == b ? 6 : 5);
    if (j < s.size() && is_alpha(s[j])) {  // \boxedfoo is another command
      i = j;
      continue;
    }
    while (j < s.size() && s[j] == ' ') ++j;
    Span sp;
    sp.start = at;
    if (j < s.size() && s[j] == '{') {
      size_t e = match_brace(s, j);
      size_t content_end = (e <= s.size() && e > j + 1 && s[e - 1] == '}') ? e - 1 : e;
      sp.content = std::string(s.substr(j + 1, content_end - (j + 1)));
      sp.end = e;
    } else {
      // "\boxed 5": one token.
      size_t e = j;
      while (e < s.size() && !is_space(s[e]) && s[e] != '$') ++e;
      sp.content = std::string(s.substr(j, e - j));
      sp.end = e;
    }
    boxes.push_back(sp);
    i = std::max(sp.end, at + 1);
  }
  return boxes;
}

// $$...$$, \[...\], $...$ (one line; an opening $ after a digit or a closing $ before a digit is a
// dollar sign), \(...\) (one line).
std::vector<Span> find_math_spans(std::string_view s) {
  std::vector<Span> spans;
  size_t i = 0;
  const size_t n = s.size();
  // Once a closing delimiter is missing from the rest of the text, later openers of that kind
  // are not searched again (keeps the scan linear on hostile text).
  bool no_bracket_close = false, no_paren_close = false, no_double_close = false;
  while (i < n) {
    if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '[' || s[i + 1] == '(')) {
      bool display = s[i + 1] == '[';
      bool& missing = display ? no_bracket_close : no_paren_close;
      std::string_view close = display ? "\\]" : "\\)";
      size_t e = missing ? npos : s.find(close, i + 2);
      if (e == npos) missing = true;
      if (e != npos) {
        std::string_view content = s.substr(i + 2, e - i - 2);
        if (display || content.find('\n') == npos) {
          spans.push_back({i, e + 2, std::string(content)});
          i = e + 2;
          continue;
        }
        // A broken inline span: skip it whole so its text supplies no plain number.
        spans.push_back({i, e + 2, std::string()});
        i = e + 2;
        continue;
      }
      i += 2;
      continue;
    }
    if (s[i] == '\\' && i + 1 < n) {
      i += 2;  // an escaped character (\$)
      continue;
    }
    if (s[i] != '$') {
      ++i;
      continue;
    }
    if (i + 1 < n && s[i + 1] == '$') {
      size_t e = no_double_close ? npos : s.find("$$", i + 2);
      if (e == npos) {
        no_double_close = true;
        i += 2;
        continue;
      }
      spans.push_back({i, e + 2, std::string(s.substr(i + 2, e - i - 2))});
      i = e + 2;
      continue;
    }
    if (i > 0 && is_digit(s[i - 1])) {
      ++i;
      continue;
    }
    // Inline: the next unescaped $.
    size_t e = i + 1;
    while (e < n && !(s[e] == '$' && s[e - 1] != '\\')) ++e;
    if (e >= n) {
      ++i;
      continue;
    }
    if (e + 1 < n && is_digit(s[e + 1])) {  // "$5 and $10": currency, not math
      ++i;
      continue;
    }
    std::string_view content = s.substr(i + 1, e - i - 1);
    if (content.find('\n') != npos) {
      spans.push_back({i, e + 1, std::string()});  // broken: masks its text only
    } else {
      spans.push_back({i, e + 1, std::string(content)});
    }
    i = e + 1;
  }
  return spans;
}

}  // namespace forge::reward::math
