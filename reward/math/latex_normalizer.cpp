#include "reward/math/latex_normalizer.h"

#include "reward/math/text.h"

#include <algorithm>
#include <array>

namespace forge::reward::math {
namespace {

constexpr std::string_view kKnownCommands[] = {
    "frac",         "dfrac",    "tfrac",      "cfrac",        "sqrt",    "boxed",  "fbox",
    "text",         "textbf",   "textit",     "textnormal",   "textrm",  "mbox",   "mathrm",
    "mathbf",       "mathit",   "boldsymbol", "operatorname", "left",    "right",  "le",
    "leq",          "ge",       "geq",        "ne",           "neq",     "lt",     "gt",
    "pi",           "infty",    "cdot",       "times",        "div",     "pm",     "mp",
    "sin",          "cos",      "tan",        "sec",          "csc",     "cot",    "ln",
    "log",          "exp",      "arcsin",     "arccos",       "arctan",  "sinh",   "cosh",
    "tanh",         "begin",    "end",        "pmatrix",      "bmatrix", "cup",    "cap",
    "in",           "approx",   "circ",       "degree",       "binom",   "dbinom", "tbinom",
    "alpha",        "beta",     "gamma",      "delta",        "theta",   "lambda", "mu",
    "sigma",        "phi",      "omega",      "quad",         "qquad",   "dots",   "ldots",
    "cdots",        "emptyset", "varnothing", "sum",          "prod",    "int",    "lim",
    "mathbb",       "overline", "vec",        "hat",          "bar",     "angle",  "triangle",
    "displaystyle", "leqslant", "geqslant",   "lfloor",       "rfloor",  "lceil",  "rceil",
    "max",          "min",      "gcd",        "lcm",          "det",     "emph",   "textup",
    "bigl",         "bigr",     "Bigl",       "Bigr",         "big",     "Big",    "mathsf",
    "varphi",       "epsilon",  "rho",        "tau",          "mid",     "lvert",  "rvert",
    "vert",         "infinity"};

constexpr std::string_view kUnitWords[] = {
    "cm",     "mm",     "km",      "m",      "meter",   "meters", "metre",  "metres", "centimeters",
    "inch",   "inches", "in",      "ft",     "feet",    "foot",   "yard",   "yards",  "yd",
    "mile",   "miles",  "mi",      "units",  "unit",    "square", "sq",     "cubic",  "kg",
    "g",      "grams",  "gram",    "pounds", "lb",      "lbs",    "ounces", "oz",     "seconds",
    "second", "sec",    "minutes", "minute", "min",     "hours",  "hour",   "hr",     "hrs",
    "days",   "day",    "weeks",   "years",  "dollars", "dollar", "cents",  "cent",   "degrees",
    "degree", "liters", "mph",     "yuan"};

bool is_unit_word(std::string_view w) {
  const std::string lower = to_lower(w);
  return std::find(std::begin(kUnitWords), std::end(kUnitWords), lower) != std::end(kUnitWords);
}

// Reads a brace argument at s[i] (after optional spaces): its content and the index past it.
// Without a brace, the argument is the next single character.
std::string_view read_arg(std::string_view s, size_t i, size_t* end) {
  i = skip_spaces(s, i);
  if (i >= s.size()) {
    *end = i;
    return {};
  }
  if (s[i] == '{') {
    size_t e = match_brace(s, i);
    *end = e;
    size_t content_end = (e > i + 1 && e <= s.size() && s[e - 1] == '}') ? e - 1 : e;
    return s.substr(i + 1, content_end - (i + 1));
  }
  *end = i + 1;
  return s.substr(i, 1);
}

// The last non-space character written so far.
char last_char(const std::string& out) {
  for (size_t k = out.size(); k-- > 0;) {
    if (!is_space(out[k])) return out[k];
  }
  return '\0';
}

// Replaces literal substrings (no command-boundary logic).
void replace_all(std::string* s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s->find(from, pos)) != std::string::npos) {
    s->replace(pos, from.size(), to);
    pos += to.size();
  }
}

// Unicode and ASCII spellings that have one canonical LaTeX form; degree marks and thousands
// separators that need context.
std::string pre_pass(std::string_view raw) {
  std::string s(raw);
  static const std::pair<std::string_view, std::string_view> kSubs[] = {
      {"\xE2\x88\x92", "-"},          // − minus sign
      {"\xC3\x97", "\\times "},       // ×
      {"\xC3\xB7", "\\div "},         // ÷
      {"\xC2\xB7", "\\cdot "},        // ·
      {"\xE2\x8B\x85", "\\cdot "},    // ⋅
      {"\xCF\x80", "\\pi "},          // π
      {"\xE2\x88\x9A", "\\sqrt"},     // √
      {"\xE2\x88\x9E", "\\infty "},   // ∞
      {"\xE2\x89\xA4", "\\le "},      // ≤
      {"\xE2\x89\xA5", "\\ge "},      // ≥
      {"\xE2\x89\xA0", "\\ne "},      // ≠
      {"\xE2\x89\x88", "\\approx "},  // ≈
      {"\xC2\xB1", "\\pm "},          // ±
      {"\xC2\xB2", "^2"},             // ²
      {"\xC2\xB3", "^3"},             // ³
      {"\xC2\xB0", ""},               // ° degree sign
      {"\xE2\x82\xAC", ""},           // € euro
      {"\xC2\xA3", ""},               // £
      {"\xC2\xA5", ""},               // ¥
      {"\xE2\x80\xAF", ""},           // narrow no-break space (thousands)
      {"\xC2\xA0", " "},              // no-break space
      {"^{\\circ}", ""},
      {"^{ \\circ }", ""},
      {"^{\\circ }", ""},
      {"^\\circ", ""},
      {"^{\\degree}", ""},
      {"^\\degree", ""},
      {"\\degree", ""},
      {"{,}", ""},
      {"<=", "\\le "},
      {">=", "\\ge "},
      {"=<", "\\le "},
      {"=>", "\\ge "},
      {"!=", "\\ne "},
      {"\\\\%", "%"},
  };
  for (const auto& [from, to] : kSubs) {
    if (s.find(from) != std::string::npos) replace_all(&s, from, to);
  }
  // "14{,}916" and "14 {, }916": a thousands separator.
  if (s.find('{') != std::string::npos) {
    std::string kept;
    kept.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '{') {
        size_t k = skip_spaces(s, i + 1);
        if (k < s.size() && s[k] == ',') {
          size_t m = skip_spaces(s, k + 1);
          if (m < s.size() && s[m] == '}') {
            while (!kept.empty() && kept.back() == ' ') kept.pop_back();
            i = m;
            continue;
          }
        }
      }
      kept += s[i];
    }
    s.swap(kept);
  }
  // "11,\! 111" and "1,\!000": a thousands separator, not a list.
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    size_t bang = skip_spaces(s, i + 1);
    if (s[i] == ',' && bang + 1 < s.size() && s[bang] == '\\' && s[bang + 1] == '!' && i > 0 &&
        is_digit(s[i - 1])) {
      size_t j = skip_spaces(s, bang + 2);
      if (j < s.size() && is_digit(s[j])) {
        i = j - 1;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

void normalize_into(std::string_view s, std::string* out, int depth);

// Handles \text{content} (and its aliases) at the current end of `out`.
void emit_text(std::string_view content, std::string* out, int depth) {
  std::string c = trim(content);
  if (c == "and" || c == "or" || c == "," || c == "and/or" || c == ", and" || c == ",and") {
    *out += last_char(*out) == ',' ? " " : ", ";
    return;
  }
  char prev = last_char(*out);
  if (is_digit(prev) || prev == '}' || prev == ')' || prev == ']' || prev == '%') {
    return;  // a unit or a comment after a value: "10\text{ cm}", "17\text{ any text}"
  }
  std::string inner;
  normalize_into(c, &inner, depth + 1);
  *out += inner;
}

void normalize_into(std::string_view s, std::string* out, int depth) {
  if (depth > 50) {  // pathological nesting: keep the text as is
    out->append(s);
    return;
  }
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    char c = s[i];
    if (c == '$') {
      ++i;
      continue;
    }
    if (c == '~') {
      *out += ' ';
      ++i;
      continue;
    }
    if (c != '\\') {
      *out += c;
      ++i;
      continue;
    }
    // A backslash.
    if (i + 1 >= n) {  // a lone trailing backslash ("185\")
      ++i;
      continue;
    }
    char d = s[i + 1];
    if (d == '\\') {
      size_t j = i + 2;
      while (j < n && is_alpha(s[j])) ++j;
      if (j > i + 2 && is_known_command(s.substr(i + 2, j - (i + 2)))) {
        ++i;  // "\\frac" written with an escaped backslash: read it as "\frac"
        continue;
      }
      *out += "\\\\";
      i += 2;
      continue;
    }
    if (!is_alpha(d)) {
      i += 2;
      switch (d) {
        case '!':
        case ',':
        case ':':
        case ';':
        case '>':
        case ' ':
        case '$':
        case '(':
        case ')':
        case '[':
        case ']':
        case '\n':
        case '\t':
          break;  // spacing, dollars, math delimiters
        case '%':
          *out += '%';
          break;
        case '|':
          *out += '|';
          break;
        case '{':
          *out += "\\{";
          break;
        case '}':
          *out += "\\}";
          break;
        default:
          *out += d;
      }
      continue;
    }
    size_t j = i + 1;
    while (j < n && is_alpha(s[j])) ++j;
    std::string_view name = s.substr(i + 1, j - (i + 1));
    i = j;
    if (name == "left" || name == "right" || name == "bigl" || name == "bigr" || name == "big" ||
        name == "Big" || name == "Bigl" || name == "Bigr" || name == "bigg" || name == "Bigg" ||
        name == "biggl" || name == "biggr" || name == "Biggl" || name == "Biggr" ||
        name == "middle") {
      if (i < n && s[i] == '.') ++i;  // \left. is an invisible delimiter
      continue;
    }
    if (name == "displaystyle" || name == "textstyle" || name == "scriptstyle" ||
        name == "limits" || name == "nolimits" || name == "mathstrut" || name == "strut" ||
        name == "circ" || name == "degree" || name == "enspace" || name == "thinspace" ||
        name == "negthinspace" || name == "nonumber" || name == "notag") {
      continue;
    }
    if (name == "quad" || name == "qquad") {
      *out += ' ';
      continue;
    }
    if (name == "hspace" || name == "vspace" || name == "phantom" || name == "hphantom" ||
        name == "vphantom" || name == "label") {
      size_t e;
      read_arg(s, i, &e);
      i = e;
      continue;
    }
    if (name == "dfrac" || name == "tfrac" || name == "cfrac") {
      *out += "\\frac";
      continue;
    }
    if (name == "dbinom" || name == "tbinom") {
      *out += "\\binom";
      continue;
    }
    if (name == "leq" || name == "le" || name == "leqslant" || name == "leqq") {
      *out += "\\le ";
      continue;
    }
    if (name == "geq" || name == "ge" || name == "geqslant" || name == "geqq") {
      *out += "\\ge ";
      continue;
    }
    if (name == "neq" || name == "ne") {
      *out += "\\ne ";
      continue;
    }
    if (name == "lt") {
      *out += '<';
      continue;
    }
    if (name == "gt") {
      *out += '>';
      continue;
    }
    if (name == "dots" || name == "ldots" || name == "cdots" || name == "dotsc" ||
        name == "dotsb") {
      *out += "...";
      continue;
    }
    if (name == "lvert" || name == "rvert" || name == "vert" || name == "mid") {
      *out += '|';
      continue;
    }
    if (name == "infinity") {
      *out += "\\infty ";
      continue;
    }
    if (name == "varnothing") {
      *out += "\\emptyset ";
      continue;
    }
    if (name == "mathrm" || name == "mathbf" || name == "mathit" || name == "boldsymbol" ||
        name == "bm" || name == "mathsf" || name == "mathnormal" || name == "mathtt" ||
        name == "boxed" || name == "fbox" || name == "mathbb" || name == "mathcal") {
      size_t e;
      std::string_view arg = read_arg(s, i, &e);
      i = e;
      normalize_into(arg, out, depth + 1);
      continue;
    }
    if (name == "text" || name == "textbf" || name == "textit" || name == "textnormal" ||
        name == "textrm" || name == "mbox" || name == "emph" || name == "texttt" ||
        name == "textup" || name == "textsf" || name == "hbox") {
      size_t e;
      std::string_view arg = read_arg(s, i, &e);
      i = e;
      size_t before = out->size();
      emit_text(arg, out, depth);
      if (out->size() == before) {
        // A dropped unit may carry an exponent: 15\mbox{ cm}^2.
        size_t k = skip_spaces(s, i);
        if (k < n && s[k] == '^') {
          size_t e2;
          read_arg(s, k + 1, &e2);
          i = e2;
        }
      }
      continue;
    }
    if (name == "operatorname") {
      size_t e;
      std::string_view arg = read_arg(s, i, &e);
      i = e;
      std::string a = trim(arg);
      if (is_known_command(a)) {
        *out += "\\" + a + " ";
      } else {
        *out += a;
      }
      continue;
    }
    *out += '\\';
    out->append(name);
    if (i < n && is_alpha(s[i])) *out += ' ';  // keep the command name delimited
  }
}

// Collapses whitespace runs to one space and trims.
std::string collapse_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Strips trailing punctuation (". , ;" and a lone trailing backslash) but not an ellipsis.
void strip_trailing_punct(std::string* s) {
  while (!s->empty()) {
    char c = s->back();
    if (c == ' ') {
      s->pop_back();
      continue;
    }
    if (c == ',' || c == ';' || c == ':' || c == '\\') {
      s->pop_back();
      continue;
    }
    if (c == '.' && !(s->size() >= 2 && (*s)[s->size() - 2] == '.')) {
      s->pop_back();
      continue;
    }
    break;
  }
}

// Strips unit words that trail a value: "125 miles", "35 cm^2", "10 square feet".
void strip_trailing_units(std::string* s) {
  for (int round = 0; round < 3; ++round) {
    size_t e = s->size();
    // Optional exponent on the unit.
    size_t k = e;
    if (k >= 2 && is_digit((*s)[k - 1]) && (*s)[k - 2] == '^') k -= 2;
    size_t w_end = k;
    size_t w = w_end;
    while (w > 0 && is_alpha((*s)[w - 1])) --w;
    if (w == w_end || w == 0) return;
    if ((*s)[w - 1] == '\\') return;  // a command, not a word
    if (!is_unit_word(std::string_view(*s).substr(w, w_end - w))) return;
    size_t before = w;
    while (before > 0 && (*s)[before - 1] == ' ') --before;
    if (before == 0) return;
    char p = (*s)[before - 1];
    bool after_value = is_digit(p) || p == '}' || p == ')' || p == '%';
    // Units may also follow other unit words ("square feet").
    bool after_unit = false;
    if (is_alpha(p)) {
      size_t q = before;
      while (q > 0 && is_alpha((*s)[q - 1])) --q;
      after_unit = (q == 0 || (*s)[q - 1] != '\\') &&
                   is_unit_word(std::string_view(*s).substr(q, before - q));
    }
    if (!after_value && !after_unit) return;
    if (before == w && !(p == '}' || p == '%')) {
      // No space between a digit and the word ("5cm", "4x"): only strip multi-letter units.
      if (w_end - w < 2) return;
    }
    s->resize(before);
  }
}

}  // namespace

bool is_known_command(std::string_view name) {
  return std::find(std::begin(kKnownCommands), std::end(kKnownCommands), name) !=
         std::end(kKnownCommands);
}

std::string normalize_answer(std::string_view raw) {
  std::string pre = pre_pass(raw);
  std::string out;
  out.reserve(pre.size());
  normalize_into(pre, &out, 0);
  std::string s = collapse_spaces(out);
  strip_trailing_punct(&s);
  strip_trailing_units(&s);
  strip_trailing_punct(&s);
  // Leading punctuation such as ": 5" or ", 5".
  while (!s.empty() && (s[0] == ':' || s[0] == ',' || s[0] == ' ')) s.erase(0, 1);
  return s;
}

std::string canonical_string(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ') {
      if (!out.empty() && i + 1 < s.size() && is_alnum(out.back()) && is_alnum(s[i + 1])) {
        out += ' ';
      }
      continue;
    }
    out += s[i];
  }
  return out;
}

}  // namespace forge::reward::math
