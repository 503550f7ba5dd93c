#include "rl/tasks/arithmetic.h"

#include "absl/strings/str_cat.h"
#include "rl/tasks/expression.h"

namespace forge::rl::tasks {
namespace {

constexpr int kMaxTries = 100000;

bool is_additive(char op) { return op == '+' || op == '-'; }

}  // namespace

absl::Status ArithmeticOptions::validate() const {
  if (digits < 1 || digits > 6) return absl::InvalidArgumentError("digits: must be in [1, 6]");
  if (ops < 1 || ops > 10) return absl::InvalidArgumentError("ops: must be in [1, 10]");
  if (operators.empty()) return absl::InvalidArgumentError("operators: must not be empty");
  for (char c : operators) {
    if (c != '+' && c != '-' && c != '*') {
      return absl::InvalidArgumentError(
          absl::StrCat("operators: '", std::string(1, c), "' is not one of + - *"));
    }
  }
  if (max_value < 0) return absl::InvalidArgumentError("max_value: must be >= 0");
  return absl::OkStatus();
}

std::string ArithmeticProblem::text() const {
  std::string s;
  for (size_t i = 0; i < operands.size(); ++i) {
    if (i > 0) s += operators[i - 1];
    s += std::to_string(operands[i]);
  }
  return s;
}

size_t next_operation(const ArithmeticProblem& p, EvalOrder order) {
  if (order == EvalOrder::kPrecedence) {
    const size_t star = p.operators.find('*');
    if (star != std::string::npos) return star;
  }
  return 0;
}

ArithmeticProblem substitute(const ArithmeticProblem& p, size_t index, int64_t result) {
  ArithmeticProblem rest;
  for (size_t i = 0; i < p.operands.size(); ++i) {
    if (i == index + 1) continue;
    rest.operands.push_back(i == index ? result : p.operands[i]);
  }
  rest.operators = p.operators;
  rest.operators.erase(index, 1);
  return rest;
}

std::optional<int64_t> evaluate_arithmetic(const ArithmeticProblem& p, EvalOrder order,
                                           std::vector<ArithmeticStep>* steps) {
  ArithmeticProblem cur = p;
  while (!cur.operators.empty()) {
    const size_t i = next_operation(cur, order);
    ArithmeticStep step;
    step.a = cur.operands[i];
    step.op = cur.operators[i];
    step.b = cur.operands[i + 1];
    if (!checked_apply(step.a, step.op, step.b, &step.result)) return std::nullopt;
    cur = substitute(cur, i, step.result);
    if (steps != nullptr) {
      step.rest = cur;
      steps->push_back(std::move(step));
    }
  }
  return cur.operands.front();
}

bool precedence_matters(const ArithmeticProblem& p) {
  for (size_t i = 0; i + 1 < p.operators.size(); ++i) {
    if (is_additive(p.operators[i]) && p.operators[i + 1] == '*') return true;
  }
  return false;
}

absl::StatusOr<ArithmeticProblem> parse_arithmetic(std::string_view text) {
  ArithmeticProblem p;
  size_t i = 0;
  while (true) {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    int64_t value = 0;
    if (i == start || !parse_int64(text.substr(start, i - start), &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("arithmetic problem '", std::string(text), "': expected a number at position ", start));
    }
    p.operands.push_back(value);
    if (i == text.size()) break;
    const char op = text[i];
    if (op != '+' && op != '-' && op != '*') {
      return absl::InvalidArgumentError(absl::StrCat(
          "arithmetic problem '", std::string(text), "': unexpected '", std::string(1, op), "' at position ", i));
    }
    p.operators += op;
    ++i;
  }
  return p;
}

absl::StatusOr<ArithmeticProblem> generate_arithmetic(const ArithmeticOptions& options, Rng& rng) {
  if (absl::Status s = options.validate(); !s.ok()) return s;
  int64_t lo = 1, hi = 9;
  for (int d = 1; d < options.digits; ++d) {
    lo = (d == 1) ? 10 : lo * 10;
    hi = hi * 10 + 9;
  }
  for (int attempt = 0; attempt < kMaxTries; ++attempt) {
    ArithmeticProblem p;
    for (int i = 0; i <= options.ops; ++i) p.operands.push_back(rng.range(lo, hi));
    for (int i = 0; i < options.ops; ++i) {
      p.operators += options.operators[rng.below(options.operators.size())];
    }
    std::vector<ArithmeticStep> steps;
    if (!evaluate_arithmetic(p, EvalOrder::kPrecedence, &steps)) continue;
    bool ok = true;
    for (const ArithmeticStep& s : steps) {
      if (!options.allow_negative && s.result < 0) ok = false;
      if (options.max_value > 0 && (s.result > options.max_value || s.result < -options.max_value)) {
        ok = false;
      }
    }
    if (ok) return p;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "arithmetic: no problem with ", options.digits, "-digit operands and ", options.ops,
      " operations keeps every intermediate within max_value ", options.max_value, " (tried ",
      kMaxTries, " times)"));
}

}  // namespace forge::rl::tasks
