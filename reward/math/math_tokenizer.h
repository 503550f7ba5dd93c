// Splits a normalised answer into tokens for expression_parser: numbers (with thousands
// separators "1,000" / "1 000" merged when every later group has three digits, decimals, and
// scientific notation 1.5e10 / 2E-3), letter runs, LaTeX commands (\frac; \{ \} and \\ are
// commands too), and single characters. Each token records whether whitespace preceded it (the
// parser needs it for mixed numbers "4 4/9").
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forge::reward::math {

enum class TokenKind { kEnd, kNumber, kWord, kCmd, kChar };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // number digits (separators removed), word, command name, or the char
  bool space_before = false;
};

std::vector<Token> tokenize_answer(std::string_view s);

}  // namespace forge::reward::math
