#include "reward/math/answer_extractor.h"

#include "reward/math/latex_spans.h"
#include "reward/math/text.h"

#include <algorithm>

namespace forge::reward::math {
namespace {

constexpr size_t npos = std::string_view::npos;

// ---------------------------------------------------------------- \boxed{...}

// True when the text between two answers only joins them: punctuation, math delimiters, spacing,
// "and"/"or", \text{...}, and at most one other word when a joining word is present.
bool is_connector(std::string_view gap) {
  // "\( y_1 = \boxed{..} \) and \( y_2 = \boxed{..} \)": a name assigned the next box.
  {
    size_t e = gap.size();
    while (e > 0 && is_space(gap[e - 1])) --e;
    if (e > 0 && gap[e - 1] == '=') {
      size_t b = e - 1;
      while (b > 0 && is_space(gap[b - 1])) --b;
      size_t name_end = b;
      while (b > 0 && (is_alpha(gap[b - 1]) || is_digit(gap[b - 1]) || gap[b - 1] == '_' ||
                       gap[b - 1] == '{' || gap[b - 1] == '}')) {
        --b;
      }
      if (b < name_end && is_alpha(gap[b])) gap = gap.substr(0, b);
    }
  }
  int other_words = 0;
  bool joiner = false;
  size_t i = 0;
  while (i < gap.size()) {
    char c = gap[i];
    if (is_space(c) || c == ',' || c == ';' || c == '.' || c == '$' || c == '~' || c == '&') {
      joiner = joiner || c == ',' || c == ';';
      ++i;
      continue;
    }
    if (c == '\\') {
      size_t j = i + 1;
      while (j < gap.size() && is_alpha(gap[j])) ++j;
      std::string_view cmd = gap.substr(i + 1, j - i - 1);
      if (cmd.empty()) {  // \( \) \[ \] \, \; \\ .
        i += 2;
        continue;
      }
      if (cmd == "text" || cmd == "textbf" || cmd == "mbox" || cmd == "textnormal" ||
          cmd == "textrm" || cmd == "emph") {
        if (j < gap.size() && gap[j] == '{') {
          j = match_brace(gap, j);
          joiner = true;
        }
        i = j;
        continue;
      }
      if (cmd == "quad" || cmd == "qquad" || cmd == "hspace" || cmd == "text") {
        i = j;
        continue;
      }
      return false;
    }
    if (is_alpha(c)) {
      size_t j = i;
      while (j < gap.size() && is_alpha(gap[j])) ++j;
      std::string w(gap.substr(i, j - i));
      for (char& ch : w) ch = to_lower(ch);
      if (w == "and" || w == "or") {
        joiner = true;
      } else {
        ++other_words;
      }
      i = j;
      continue;
    }
    return false;  // digits, operators, '=': a formula between the boxes
  }
  return other_words == 0 || (joiner && other_words <= 1);
}

// The last group of boxes joined by connectors, as one candidate.
bool last_box_group(std::string_view s, std::string* out) {
  std::vector<Span> boxes = find_boxes(s);
  if (boxes.empty()) return false;
  size_t first = boxes.size() - 1;
  while (first > 0 && boxes.size() - first < 16 &&
         is_connector(s.substr(boxes[first - 1].end, boxes[first].start - boxes[first - 1].end))) {
    --first;
  }
  std::string joined;
  for (size_t k = first; k < boxes.size(); ++k) {
    if (k > first) joined += ", ";
    joined += trim(boxes[k].content);
  }
  if (percent_after(s, boxes.back().end)) joined += "%";  // "\boxed{10}\%"
  *out = joined;
  return true;
}

// ---------------------------------------------------------------- math spans

bool is_span_connector(std::string_view gap) {
  std::string g = trim(gap);
  for (char& c : g) c = to_lower(c);
  return g.empty() || g == "," || g == "and" || g == "or" || g == ", and" || g == ", or" ||
         g == ",and" || g == ",or" || g == ";";
}

// The last non-empty math span, joined with up to 4 spans before it.
bool last_span_group(std::string_view s, const std::vector<Span>& spans, std::string* out,
                     size_t* end) {
  size_t last = spans.size();
  while (last > 0 && trim(spans[last - 1].content).empty()) --last;
  if (last == 0) return false;
  size_t first = last - 1;
  while (first > 0 && last - first < 5 && !trim(spans[first - 1].content).empty() &&
         is_span_connector(
             s.substr(spans[first - 1].end, spans[first].start - spans[first - 1].end))) {
    --first;
  }
  std::string joined;
  for (size_t k = first; k < last; ++k) {
    if (k > first) joined += ", ";
    joined += trim(spans[k].content);
  }
  if (percent_after(s, spans[last - 1].end)) joined += "%";
  *out = joined;
  *end = spans[last - 1].end;
  return true;
}

// ---------------------------------------------------------------- plain numbers

bool is_anchor(char c) {
  return is_space(c) || c == '=' || c == '(' || c == '$' || c == ':' || c == '*' || c == '"' ||
         c == '\'' || c == '[' || c == '{' || c == '~' || static_cast<unsigned char>(c) >= 0x80;
}

// Rewrites decimal commas in a plain-text number ("2,74" -> "2.74") but keeps thousands groups
// ("1,000,000") and lists ("1,2,3").
std::string fix_decimal_commas(std::string_view run) {
  std::string out(run);
  size_t i = 0;
  while (i < out.size()) {
    if (!is_digit(out[i]) || (i > 0 && (is_digit(out[i - 1]) || out[i - 1] == '.'))) {
      ++i;
      continue;
    }
    // A chain of digit groups joined by single commas.
    std::vector<std::pair<size_t, size_t>> groups;  // [start, end)
    size_t j = i;
    while (true) {
      size_t g = j;
      while (j < out.size() && is_digit(out[j])) ++j;
      groups.push_back({g, j});
      if (j + 1 < out.size() && out[j] == ',' && is_digit(out[j + 1])) {
        ++j;
        continue;
      }
      break;
    }
    if (groups.size() == 2) {
      size_t first_len = groups[0].second - groups[0].first;
      size_t second_len = groups[1].second - groups[1].first;
      bool thousands = first_len <= 3 && out[groups[0].first] != '0' && second_len == 3;
      if (!thousands) out[groups[0].second] = '.';
    }
    i = j;
  }
  return out;
}

struct Run {
  size_t start = 0, end = 0;
  std::string text;
};

// The arithmetic runs of plain text outside `masked` regions, in order.
std::vector<Run> plain_runs(std::string_view s, const std::vector<Span>& masked) {
  std::vector<Run> runs;
  std::vector<bool> mask(s.size(), false);
  for (const Span& sp : masked) {
    for (size_t k = sp.start; k < sp.end && k < s.size(); ++k) mask[k] = true;
  }
  // A bare LaTeX fraction of two integers in prose: "the result is -\\frac{10}{9}".
  const size_t n = s.size();
  std::vector<Run> fractions;
  for (size_t at = 0; (at = s.find("\\frac{", at)) != npos; at += 6) {
    if (mask[at]) continue;
    size_t k = at + 6;
    size_t a = k;
    while (k < n && is_digit(s[k])) ++k;
    if (k == a || k + 1 >= n || s[k] != '}' || s[k + 1] != '{') continue;
    size_t b = k + 2, m = b;
    while (m < n && is_digit(s[m])) ++m;
    if (m == b || m >= n || s[m] != '}') continue;
    size_t start = at;
    if (start > 0 && s[start - 1] == '-') --start;
    if (start > 0 && !is_anchor(s[start - 1])) continue;
    Run r;
    r.start = start;
    r.end = m + 1;
    r.text = std::string(s.substr(start, m + 1 - start));
    for (size_t q = start; q <= m; ++q) mask[q] = true;
    fractions.push_back(std::move(r));
  }
  auto run_char = [](char c) {
    return is_digit(c) || c == '.' || c == '+' || c == '-' || c == '*' || c == '/' || c == '^' ||
           c == '(' || c == ')';
  };
  size_t i = 0;
  while (i < n) {
    char c = s[i];
    bool starts = is_digit(c) || ((c == '-' || c == '+' || c == '(' || c == '.') && i + 1 < n &&
                                  is_digit(s[i + 1]));
    if (mask[i] || !starts || !(i == 0 || is_anchor(s[i - 1]) || (c == '-' && s[i - 1] == '('))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !mask[j]) {
      char d = s[j];
      if (run_char(d)) {
        ++j;
        continue;
      }
      if (d == ',' && j > i && is_digit(s[j - 1]) && j + 1 < n && is_digit(s[j + 1])) {
        ++j;
        continue;
      }
      if (d == ' ' && j + 1 < n && (run_char(s[j + 1])) && s[j + 1] != '.') {
        ++j;
        continue;
      }
      break;
    }
    // Trim trailing operators, spaces and dots, and closing parentheses without a partner.
    size_t e = j;
    long bal = 0;  // '(' minus ')' in s[i, e)
    for (size_t k = i; k < e; ++k) bal += s[k] == '(' ? 1 : (s[k] == ')' ? -1 : 0);
    while (e > i) {
      char d = s[e - 1];
      if (d == ' ' || d == '.' || d == '+' || d == '-' || d == '*' || d == '/' || d == '^' ||
          d == '(' || d == ',') {
        if (d == '(') --bal;
        --e;
        continue;
      }
      if (d == ')' && bal < 0) {
        ++bal;
        --e;
        continue;
      }
      break;
    }
    std::string_view body = s.substr(i, e - i);
    bool has_digit = std::any_of(body.begin(), body.end(), is_digit);
    if (has_digit) {
      Run r;
      r.start = i;
      r.end = e;
      r.text = fix_decimal_commas(body);
      // Leading '(' without its ')' ("(see 5"): drop it.
      long open = 0;
      for (char d : r.text) open += d == '(' ? 1 : (d == ')' ? -1 : 0);
      size_t drop = 0;
      while (open > 0 && drop < r.text.size() && r.text[drop] == '(') {
        ++drop;
        --open;
      }
      r.text.erase(0, drop);
      if (percent_after(s, e)) r.text += "%";
      runs.push_back(std::move(r));
      if (runs.size() > 4096) runs.erase(runs.begin(), runs.begin() + 2048);
    }
    i = std::max(j, i + 1);
  }
  for (Run& f : fractions) {
    auto pos =
        std::find_if(runs.begin(), runs.end(), [&](const Run& x) { return x.start > f.start; });
    runs.insert(pos, std::move(f));
  }
  return runs;
}

// The last plain number inside a run: the fallback when the run is not an expression.
std::string last_number(std::string_view run) {
  size_t e = run.size();
  while (e > 0 && !is_digit(run[e - 1])) --e;
  size_t b = e;
  while (b > 0 && (is_digit(run[b - 1]) || run[b - 1] == '.')) --b;
  if (b > 0 && run[b - 1] == '-' && (b == 1 || run[b - 2] == ' ' || run[b - 2] == '(')) --b;
  std::string out(run.substr(b, e - b));
  if (!run.empty() && run.back() == '%') out += "%";
  return out;
}

// ---------------------------------------------------------------- anchored phrases

// The value written right after position i: a math span, a box, or the rest of the sentence
// (*is_math tells which).
std::string value_after(std::string_view s, size_t i, bool* is_math) {
  *is_math = true;
  while (i < s.size() && (is_space(s[i]) || s[i] == ':' || s[i] == '*' || s[i] == '"' ||
                          (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"'))) {
    ++i;
  }
  std::string_view rest = s.substr(i);
  if (rest.empty()) return "";
  if (rest.rfind("\\boxed", 0) == 0 || rest.rfind("\\fbox", 0) == 0) {
    std::string box;
    std::vector<Span> boxes = find_boxes(rest);
    if (!boxes.empty()) {
      std::string joined = trim(boxes[0].content);
      if (percent_after(rest, boxes[0].end)) joined += "%";
      return joined;
    }
  }
  std::vector<Span> spans = find_math_spans(rest);
  if (!spans.empty() && spans[0].start == 0) {
    // The spans that follow joined by connectors: "$1$ and $2$".
    size_t last = 0;
    while (
        last + 1 < spans.size() && last < 4 &&
        is_span_connector(rest.substr(spans[last].end, spans[last + 1].start - spans[last].end))) {
      ++last;
    }
    std::string joined;
    for (size_t k = 0; k <= last; ++k) {
      if (k > 0) joined += ", ";
      joined += trim(spans[k].content);
    }
    if (percent_after(rest, spans[last].end)) joined += "%";
    return joined;
  }
  // Plain text up to the end of the sentence or line.
  *is_math = false;
  size_t e = 0;
  while (e < rest.size() && e < 300) {
    char c = rest[e];
    if (c == '\n') break;
    if (c == '.' && (e + 1 >= rest.size() || is_space(rest[e + 1])) &&
        !(e > 0 && rest[e - 1] == '.')) {
      break;
    }
    if (starts_with_ci(rest, e, " I hope")) break;
    ++e;
  }
  return trim(rest.substr(0, e));
}

void add(std::vector<AnswerCandidate>* out, std::string text, const char* source) {
  std::string t = trim(text);
  if (t.empty()) return;
  for (const auto& c : *out) {
    if (c.text == t) return;
  }
  out->push_back({std::move(t), source});
}

// Follow-up candidate for an anchored value that is prose: its first number.
void add_value(std::vector<AnswerCandidate>* out, std::string_view s, size_t at,
               const char* source) {
  bool is_math = false;
  std::string value = value_after(s, at, &is_math);
  add(out, value, source);
  if (is_math) return;
  std::vector<Run> runs = plain_runs(" " + value, {});
  if (!runs.empty()) add(out, runs.front().text, source);  // "42, which is ..." -> 42
}

void collect(std::string_view s, std::vector<AnswerCandidate>* out) {
  // 2. "final answer ... is X"
  size_t fa = rfind_ci(s, "final answer");
  if (fa != npos) {
    size_t window_end = std::min(s.size(), fa + 12 + 100);
    for (size_t k = fa + 12; k + 2 <= window_end; ++k) {
      if (s[k] == '\n' || (s[k] == '.' && k + 1 < s.size() && is_space(s[k + 1]))) break;
      if (starts_with_ci(s, k, "is") && is_space(s[k - 1]) &&
          (k + 2 >= s.size() || is_space(s[k + 2]) || s[k + 2] == ':' || s[k + 2] == '$')) {
        add_value(out, s, k + 2, "final-answer");
        break;
      }
    }
  }
  // 3. boxes
  std::string boxed;
  if (last_box_group(s, &boxed)) add(out, boxed, "boxed");
  // 4. GSM8K
  size_t hashes = s.rfind("####");
  if (hashes != npos) add_value(out, s, hashes + 4, "####");
  // 5. "answer is X" / "answer: X"
  for (size_t at = s.size(); (at = rfind_ci(s, "answer", at)) != npos;) {
    size_t k = at + 6;
    while (k < s.size() && (s[k] == ' ' || s[k] == '*')) ++k;
    size_t v = npos;
    if (k < s.size() && (s[k] == ':' || s[k] == '=')) v = k + 1;
    if (starts_with_ci(s, k, "is") && (k + 2 >= s.size() || !is_alpha(s[k + 2]))) v = k + 2;
    if (v != npos) {
      add_value(out, s, v, "answer-is");
      break;
    }
    if (at == 0) break;
  }
  // 6. rightmost of the last math span group and the last plain number
  std::vector<Span> spans = find_math_spans(s);
  std::vector<Span> masked = spans;
  for (const Span& b : find_boxes(s)) masked.push_back(b);
  std::string span_text;
  size_t span_end = 0;
  bool has_span = last_span_group(s, spans, &span_text, &span_end);
  std::vector<Run> runs = plain_runs(s, masked);
  bool has_run = !runs.empty();
  Run run = has_run ? runs.back() : Run();
  // The spans of the group one by one, last first, for a group that does not parse as a whole.
  auto add_single_spans = [&]() {
    int taken = 0;
    for (size_t k = spans.size(); k-- > 0 && taken < 5;) {
      if (trim(spans[k].content).empty()) continue;
      ++taken;
      add(out, spans[k].content, "math-span");
    }
  };
  if (has_span && (!has_run || span_end >= run.end)) {
    add(out, span_text, "math-span");
    add_single_spans();
    if (has_run) {
      add(out, run.text, "plain-number");
      add(out, last_number(run.text), "plain-number");
    }
  } else if (has_run) {
    add(out, run.text, "plain-number");
    add(out, last_number(run.text), "plain-number");
    if (has_span) {
      add(out, span_text, "math-span");
      add_single_spans();
    }
  }
}

// Text after the reasoning; `ok` false when reasoning never closes.
std::string_view after_reasoning(std::string_view s, bool* ok) {
  *ok = true;
  size_t cut = npos;
  for (size_t at = 0; (at = s.find("</", at)) != npos; at += 2) {
    size_t e = s.find('>', at);
    if (e == npos) break;
    if (e - at > 40) continue;
    std::string name(s.substr(at + 2, e - at - 2));
    for (char& c : name) c = to_lower(c);
    if (name.find("think") != npos || name.find("reason") != npos) cut = e + 1;
  }
  if (cut != npos) return s.substr(cut);
  if (find_ci(s, "<think>") != npos) *ok = false;
  return s;
}

}  // namespace

std::vector<AnswerCandidate> extract_candidates(std::string_view completion) {
  std::vector<AnswerCandidate> out;
  bool ok;
  std::string_view s = after_reasoning(completion, &ok);
  if (!ok) return out;
  size_t open = rfind_ci(s, "<answer>");
  if (open != npos) {
    size_t close = find_ci(s, "</answer>", open + 8);
    std::string_view inner = s.substr(open + 8, close == npos ? npos : close - open - 8);
    std::string boxed;
    if (last_box_group(inner, &boxed)) {
      add(&out, boxed, "answer-tag");
    } else if (inner.find('$') == npos && inner.find("\\(") == npos && inner.find("\\[") == npos) {
      add(&out, std::string(inner), "answer-tag");
    }
    collect(inner, &out);
    return out;
  }
  collect(s, &out);
  return out;
}

std::vector<AnswerCandidate> reference_candidates(std::string_view gold) {
  std::vector<AnswerCandidate> out;
  std::string boxed;
  if (last_box_group(gold, &boxed)) {
    // A reference whose boxes stand apart with no word between them ("\boxed{35} ++ \boxed{4}")
    // means all of them; otherwise its answer is the last group of boxes.
    std::vector<Span> boxes = find_boxes(gold);
    bool wordless = boxes.size() > 1 && boxes.size() <= 16;
    for (size_t k = 1; wordless && k < boxes.size(); ++k) {
      std::string_view gap = gold.substr(boxes[k - 1].end, boxes[k].start - boxes[k - 1].end);
      wordless = std::none_of(gap.begin(), gap.end(), is_alpha);
    }
    if (wordless) {
      boxed.clear();
      for (const Span& box : boxes) {
        if (!boxed.empty()) boxed += ", ";
        boxed += trim(box.content);
      }
    }
    add(&out, boxed, "reference");
    if (trim(boxed).empty()) return out;
    collect(gold, &out);
    return out;
  }
  size_t hashes = gold.rfind("####");
  if (hashes != npos) {
    bool is_math;
    add(&out, value_after(gold, hashes + 4, &is_math), "reference");
    return out;
  }
  // Reads like a solution: several words of prose.
  int words = 0;
  for (size_t i = 0; i < gold.size();) {
    if (is_alpha(gold[i]) && (i == 0 || !(is_alpha(gold[i - 1]) || gold[i - 1] == '\\'))) {
      size_t j = i;
      while (j < gold.size() && is_alpha(gold[j])) ++j;
      if (j - i >= 3) ++words;
      i = j;
    } else {
      ++i;
    }
  }
  std::vector<Span> spans = find_math_spans(gold);
  if (words >= 8) {
    collect(gold, &out);
    return out;
  }
  std::string span_text;
  size_t span_end;
  if (last_span_group(gold, spans, &span_text, &span_end)) {
    // A short reference wrapped in $...$, possibly several: "$21,16$ or $11$".
    std::string joined;
    for (size_t k = 0; k < spans.size(); ++k) {
      if (trim(spans[k].content).empty()) continue;
      if (!joined.empty()) joined += ", ";
      joined += trim(spans[k].content);
    }
    if (percent_after(gold, span_end)) joined += "%";
    add(&out, joined, "reference");
    return out;
  }
  add(&out, std::string(gold), "reference");
  return out;
}

char extract_choice_letter(std::string_view s) {
  char last = '\0';
  size_t start = 0;  // "A." / "(A)" / "A " at the very start wins
  while (start < s.size() && (is_space(s[start]) || s[start] == '(' || s[start] == '*')) ++start;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c < 'A' || c > 'E') continue;
    bool left = i == 0 || !(is_alpha(s[i - 1]) || is_digit(s[i - 1]) || s[i - 1] == '\\');
    bool right = i + 1 >= s.size() || !(is_alpha(s[i + 1]) || is_digit(s[i + 1]));
    if (!left || !right) continue;
    if (i == start) return c;
    last = c;
  }
  return last;
}

}  // namespace forge::reward::math
