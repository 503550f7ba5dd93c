#include "rl/tasks/countdown.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reward/countdown/countdown.h"
#include "rl/tasks/expression.h"

namespace forge::rl::tasks {
namespace {

constexpr int kMaxTries = 100000;

int precedence(char op) { return (op == '*' || op == '/') ? 2 : 1; }

// A value of the pool and how it was written.
struct Node {
  int64_t value = 0;
  std::string expr;
  int prec = 3;  // 3 = a literal or parenthesised
};

Node combine(const Node& a, char op, const Node& b, int64_t value, bool parenthesise,
             bool* used_parentheses) {
  std::string left = a.expr, right = b.expr;
  if (parenthesise) {
    if (a.prec < precedence(op)) {
      left = "(" + left + ")";
      *used_parentheses = true;
    }
    if (b.prec < precedence(op) || (b.prec == precedence(op) && (op == '-' || op == '/'))) {
      right = "(" + right + ")";
      *used_parentheses = true;
    }
  }
  Node n;
  n.value = value;
  n.expr = left + op + right;
  n.prec = precedence(op);
  return n;
}

// Positive-integer combination used by the generator and the solver.
bool valid_step(int64_t a, char op, int64_t b, int64_t* out) {
  if (!checked_apply(a, op, b, out)) return false;
  return *out > 0;
}

bool search(std::vector<int64_t>& pool, int64_t target, const std::string& operators,
            std::vector<CountdownStep>& steps) {
  if (pool.size() == 1) return pool[0] == target;
  for (size_t i = 0; i < pool.size(); ++i) {
    for (size_t j = i + 1; j < pool.size(); ++j) {
      const int64_t a = std::max(pool[i], pool[j]);
      const int64_t b = std::min(pool[i], pool[j]);
      for (char op : operators) {
        int64_t r;
        if (!valid_step(a, op, b, &r)) continue;
        std::vector<int64_t> next;
        for (size_t k = 0; k < pool.size(); ++k) {
          if (k != i && k != j) next.push_back(pool[k]);
        }
        next.push_back(r);
        steps.push_back({a, op, b, r});
        if (search(next, target, operators, steps)) return true;
        steps.pop_back();
      }
    }
  }
  return false;
}

std::string sorted_numbers(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return absl::StrJoin(v, ",");
}

}  // namespace

absl::Status CountdownOptions::validate() const {
  if (count < 2 || count > 6) return absl::InvalidArgumentError("count: must be in [2, 6]");
  if (max_number < 1 || max_number > 1000) {
    return absl::InvalidArgumentError("max_number: must be in [1, 1000]");
  }
  if (max_target < 1) return absl::InvalidArgumentError("max_target: must be >= 1");
  if (operators.empty()) return absl::InvalidArgumentError("operators: must not be empty");
  for (char c : operators) {
    if (c != '+' && c != '-' && c != '*' && c != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("operators: '", std::string(1, c), "' is not one of + - * /"));
    }
  }
  return absl::OkStatus();
}

std::string CountdownProblem::prompt() const {
  return absl::StrCat("Use ", absl::StrJoin(numbers, ","), " to make ", target, ".");
}

std::string CountdownProblem::gold() const {
  return absl::StrCat(target, " from ", absl::StrJoin(numbers, ","));
}

std::string CountdownProblem::key() const {
  return absl::StrCat("countdown:", sorted_numbers(numbers), "=", target);
}

absl::StatusOr<CountdownProblem> parse_countdown_gold(std::string_view gold) {
  absl::StatusOr<reward::countdown::Puzzle> puzzle = reward::countdown::parse_gold(gold);
  if (!puzzle.ok()) return puzzle.status();
  CountdownProblem p;
  p.numbers = std::move(puzzle->numbers);
  p.target = puzzle->target;
  return p;
}

absl::StatusOr<CountdownProblem> generate_countdown(const CountdownOptions& options, Rng& rng,
                                                    CountdownSolution* solution) {
  if (absl::Status s = options.validate(); !s.ok()) return s;
  for (int attempt = 0; attempt < kMaxTries; ++attempt) {
    CountdownProblem p;
    for (int i = 0; i < options.count; ++i) p.numbers.push_back(rng.range(1, options.max_number));
    std::vector<int64_t> pool = p.numbers;
    std::vector<CountdownStep> steps;
    bool ok = true;
    while (ok && pool.size() > 1) {
      size_t i = rng.below(pool.size());
      size_t j = rng.below(pool.size() - 1);
      if (j >= i) ++j;
      const char op = options.operators[rng.below(options.operators.size())];
      int64_t r;
      if (!valid_step(pool[i], op, pool[j], &r)) std::swap(i, j);  // 3-7 -> 7-3, 2/6 -> 6/2
      if (!valid_step(pool[i], op, pool[j], &r)) {
        ok = false;
        break;
      }
      steps.push_back({pool[i], op, pool[j], r});
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(std::max(i, j)));
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(std::min(i, j)));
      pool.push_back(r);
    }
    if (!ok || pool[0] < 1 || pool[0] > options.max_target) continue;
    p.target = pool[0];
    if (solution != nullptr) {
      solution->steps = steps;
      solution->expression =
          countdown_expression(p.numbers, steps, true, &solution->needs_parentheses);
    }
    return p;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "countdown: no puzzle with ", options.count, " numbers up to ", options.max_number,
      " reaches a target in [1, ", options.max_target, "] (tried ", kMaxTries, " times)"));
}

std::optional<CountdownSolution> solve_countdown(const CountdownProblem& p,
                                                 const std::string& operators) {
  std::vector<int64_t> pool = p.numbers;
  CountdownSolution s;
  if (!search(pool, p.target, operators, s.steps)) return std::nullopt;
  s.expression = countdown_expression(p.numbers, s.steps, true, &s.needs_parentheses);
  return s;
}

std::string countdown_expression(const std::vector<int64_t>& numbers,
                                 const std::vector<CountdownStep>& steps, bool parenthesise,
                                 bool* needs_parentheses) {
  std::vector<Node> pool;
  for (int64_t n : numbers) pool.push_back({n, std::to_string(n), 3});
  bool used = false;
  for (const CountdownStep& s : steps) {
    auto take = [&](int64_t value, Node* out) {
      for (size_t k = 0; k < pool.size(); ++k) {
        if (pool[k].value == value) {
          *out = pool[k];
          pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(k));
          return true;
        }
      }
      return false;
    };
    Node a, b;
    if (!take(s.a, &a) || !take(s.b, &b)) return "";
    pool.push_back(combine(a, s.op, b, s.result, parenthesise, &used));
  }
  if (pool.size() != 1) return "";
  if (needs_parentheses != nullptr) *needs_parentheses = used;
  return pool[0].expr;
}

AnswerCheck check_countdown(std::string_view response, std::string_view gold) {
  reward::countdown::Verdict v = reward::countdown::check(response, gold);
  AnswerCheck check;
  check.correct = v.correct;
  check.extracted = std::move(v.extracted);
  check.detail = std::move(v.detail);
  return check;
}

}  // namespace forge::rl::tasks
