// Locates answer-bearing regions in text: \boxed{...} / \fbox{...} with nested braces (an
// unclosed box runs to the end), and math spans $$...$$, \[...\], $...$ and \(...\). Inline
// spans stay on one line; a "$" after a digit, or a closing "$" before a digit, is a dollar sign
// ("$5 and $10"); a broken inline span is reported with empty content so that its text can be
// masked. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace forge::reward::math {

struct Span {
  size_t start = 0;  // of the delimiter / command
  size_t end = 0;    // past the closing delimiter
  std::string content;
};

// True when a percent marker ("%", "\%", "percent", "pct") follows position i, after spaces
// and closing dollars.
bool percent_after(std::string_view s, size_t i);

std::vector<Span> find_boxes(std::string_view s);
std::vector<Span> find_math_spans(std::string_view s);

}  // namespace forge::reward::math
