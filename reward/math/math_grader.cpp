#include "reward/math/math_grader.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "reward/math/answer_extractor.h"
#include "reward/math/equivalence.h"
#include "reward/math/expression_parser.h"
#include "reward/math/latex_normalizer.h"
#include "reward/math/plus_minus.h"
#include "reward/math/text.h"
#include "reward/math/work_budget.h"

namespace forge::reward::math {
namespace {

// One answer ready to compare: its normalised text and, when it parses, its expression.
struct Prepared {
  std::string normalized;
  std::string canonical;
  std::optional<MathExpr> expr;
  bool malformed = false;  // a value that must be graded wrong ("4 4/0")
  bool text = false;       // words only ("Evelyn", "even"): compared as text
  std::string too_large;   // why the parser refused it ("nested deeper than 256 levels ...")
};

bool words_only(const std::string& s) {
  bool letter = false;
  for (char c : s) {
    if (is_alpha(c)) {
      letter = true;
    } else if (!(c == ' ' || c == '(' || c == ')' || c == '-' || c == '\'' || c == ',')) {
      return false;
    }
  }
  return letter;
}

Prepared prepare(std::string_view raw, WorkBudget* budget) {
  Prepared p;
  if (raw.size() > kMaxAnswerChars) {
    // Far longer than any answer: compared as a string only.
    p.normalized = std::string(raw);
    p.canonical = p.normalized;
    p.too_large = absl::StrCat("longer than ", kMaxAnswerChars, " characters");
    return p;
  }
  p.normalized = normalize_answer(raw);
  p.canonical = canonical_string(p.normalized);
  if (p.normalized.empty()) return p;
  absl::StatusOr<MathExpr> parsed = parse_answer(p.normalized, budget);
  if (parsed.ok()) {
    p.expr = expand_plus_minus(*parsed);
  } else if (absl::IsOutOfRange(parsed.status())) {
    p.malformed = true;
  } else if (absl::IsResourceExhausted(parsed.status()) && !budget->exhausted()) {
    p.too_large = std::string(parsed.status().message());
  } else {
    p.text = words_only(p.normalized);
  }
  return p;
}

// The first candidate that parses (or is malformed); else the first non-empty one, for the
// string comparison alone.
Prepared choose(const std::vector<AnswerCandidate>& candidates, WorkBudget* budget,
                std::string* source) {
  std::optional<Prepared> fallback;
  std::string fallback_source;
  for (const AnswerCandidate& c : candidates) {
    if (budget->exhausted()) break;
    Prepared p = prepare(c.text, budget);
    if (p.normalized.empty()) continue;
    // An explicit answer that is words ("\boxed{\text{east}}") is the answer even though it
    // is not math; words found in running text are not.
    bool explicit_text =
        p.text && (c.source == "boxed" || c.source == "answer-tag" || c.source == "reference" ||
                   c.text.find("\\text") != std::string::npos);
    if (p.expr || p.malformed || explicit_text) {
      *source = c.source;
      return p;
    }
    if (!fallback) {
      fallback = std::move(p);
      fallback_source = c.source;
    }
  }
  if (fallback) {
    *source = fallback_source;
    return std::move(*fallback);
  }
  return Prepared();
}

bool is_choice_letter(const std::string& canonical) {
  return canonical.size() == 1 && canonical[0] >= 'A' && canonical[0] <= 'E';
}

std::string strip_choice_parens(std::string s) {
  if (s.size() == 3 && s[0] == '(' && s[2] == ')') return s.substr(1, 1);
  return s;
}

std::string_view tail(std::string_view s, size_t max_bytes) {
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

absl::StatusOr<MathVerdict> compare(const Prepared& gold, const Prepared& pred,
                                    std::string extracted, const std::string& how,
                                    const MathOptions& options, WorkBudget* budget) {
  MathVerdict v;
  v.extracted = std::move(extracted);
  auto finish = [&](bool correct, std::string detail) -> absl::StatusOr<MathVerdict> {
    if (budget->exhausted()) {
      absl::Status s = budget->status();
      if (absl::IsDeadlineExceeded(s)) return s;
      v.correct = false;
      v.detail = "undecided: work limit reached";
      return v;
    }
    v.correct = correct;
    v.detail = how.empty() ? detail : detail + " (" + how + ")";
    return v;
  };
  if (gold.normalized.empty()) return finish(false, "empty gold answer");
  if (pred.normalized.empty()) return finish(false, "no answer found");
  if (gold.malformed || pred.malformed) return finish(false, "malformed answer");
  if (strip_choice_parens(gold.canonical) == strip_choice_parens(pred.canonical)) {
    return finish(true, "exact match");
  }
  if (!pred.too_large.empty()) return finish(false, "prediction not graded: " + pred.too_large);
  if (!gold.too_large.empty()) return finish(false, "gold not graded: " + gold.too_large);
  if (!gold.expr || !pred.expr) {
    // Text answers ("Evelyn", "even") compare without case.
    if (to_lower(gold.canonical) == to_lower(pred.canonical)) return finish(true, "text match");
    return finish(false, gold.expr ? "prediction not parsed" : "gold not parsed");
  }
  CompareOptions co;
  co.rel_tolerance = options.rel_tolerance;
  co.abs_tolerance = options.abs_tolerance;
  co.float_rounding = options.float_rounding;
  co.percent_either_way = options.percent_either_way;
  bool eq = answers_equivalent(*gold.expr, *pred.expr, co, budget);
  return finish(eq, eq ? "equivalent" : "not equivalent");
}

}  // namespace

absl::StatusOr<MathVerdict> grade_prediction(std::string_view prediction, std::string_view gold,
                                             const MathOptions& options) {
  WorkBudget budget(options.deadline);
  if (std::chrono::steady_clock::now() > options.deadline) {
    return absl::DeadlineExceededError("math grading passed its deadline before it started");
  }
  Prepared g = prepare(tail(gold, options.max_input_bytes), &budget);
  Prepared p = prepare(tail(prediction, options.max_input_bytes), &budget);
  return compare(g, p, p.normalized, "", options, &budget);
}

absl::StatusOr<MathVerdict> grade_completion(std::string_view completion, std::string_view gold,
                                             const MathOptions& options) {
  WorkBudget budget(options.deadline);
  if (std::chrono::steady_clock::now() > options.deadline) {
    return absl::DeadlineExceededError("math grading passed its deadline before it started");
  }
  std::string_view text = tail(completion, options.max_input_bytes);
  std::string gold_source;
  Prepared g =
      choose(reference_candidates(tail(gold, options.max_input_bytes)), &budget, &gold_source);
  std::string source;
  Prepared p;
  if (is_choice_letter(strip_choice_parens(g.canonical))) {
    // Multiple choice: an anchored letter, else a letter standing alone in the text.
    std::vector<AnswerCandidate> candidates = extract_candidates(text);
    for (const AnswerCandidate& c : candidates) {
      Prepared cp = prepare(c.text, &budget);
      if (is_choice_letter(strip_choice_parens(cp.canonical))) {
        p = std::move(cp);
        source = c.source;
        break;
      }
    }
    if (p.normalized.empty()) {
      char letter = extract_choice_letter(text);
      if (letter != '\0') {
        p = prepare(std::string(1, letter), &budget);
        source = "choice-letter";
      }
    }
  } else {
    p = choose(extract_candidates(text), &budget, &source);
  }
  return compare(g, p, p.normalized, source, options, &budget);
}

}  // namespace forge::reward::math
