#include "rl/tasks/teacher.h"

#include "absl/strings/str_cat.h"
#include "rl/tasks/expression.h"

namespace forge::rl::tasks {
namespace {

constexpr int64_t kSlipDeltas[] = {-10, -2, -1, 1, 2, 10};

// Wraps a finished trace and answer into a response, breaking its format with probability
// options.format_break_rate.
void finish(const std::string& think, const std::string& answer, const TeacherOptions& options,
            Rng& rng, TeacherResponse* out) {
  out->answer = answer;
  out->format_broken = rng.bernoulli(options.format_break_rate);
  if (!out->format_broken) {
    out->response = absl::StrCat("<think>", think, "</think><answer>", answer, "</answer>");
    return;
  }
  switch (rng.below(3)) {
    case 0:  // forgot to close the reasoning
      out->response = absl::StrCat("<think>", think, "<answer>", answer, "</answer>");
      break;
    case 1:  // answer outside the tags
      out->response = absl::StrCat("<think>", think, "</think>", answer);
      break;
    default:  // unterminated answer
      out->response = absl::StrCat("<think>", think, "</think><answer>", answer);
      break;
  }
}

struct ArithmeticRun {
  std::string think;
  int64_t answer = 0;
  int slips = 0;
};

// One pass of the teacher over `p`; nullopt on int64 overflow.
std::optional<ArithmeticRun> run_arithmetic(const ArithmeticProblem& p, EvalOrder order,
                                            bool drop_carry, double slip_rate, Rng& rng) {
  ArithmeticRun run;
  ArithmeticProblem cur = p;
  while (!cur.operators.empty()) {
    const size_t i = next_operation(cur, order);
    const int64_t a = cur.operands[i], b = cur.operands[i + 1];
    const char op = cur.operators[i];
    int64_t v;
    if (!checked_apply(a, op, b, &v)) return std::nullopt;
    if (drop_carry && op == '+' && a >= 0 && b >= 0) v = add_without_carry(a, b);
    if (rng.bernoulli(slip_rate)) {
      if (__builtin_add_overflow(v, kSlipDeltas[rng.below(6)], &v)) return std::nullopt;
      ++run.slips;
    }
    cur = substitute(cur, i, v);
    if (!run.think.empty()) run.think += ' ';
    absl::StrAppend(&run.think, a, std::string(1, op), b, "=", v);
    if (!cur.operators.empty()) absl::StrAppend(&run.think, ", ", cur.text());
    run.think += '.';
  }
  run.answer = cur.operands.front();
  return run;
}

}  // namespace

absl::Status TeacherOptions::validate(const std::string& task) const {
  const std::string h = resolved_habit(task);
  if (task == "arithmetic") {
    if (h != "left_to_right" && h != "drop_carry" && h != "none") {
      return absl::InvalidArgumentError(absl::StrCat(
          "habit: '", habit, "' is not an arithmetic habit (auto, left_to_right, drop_carry, none)"));
    }
  } else if (task == "countdown") {
    if (h != "no_parens" && h != "none") {
      return absl::InvalidArgumentError(
          absl::StrCat("habit: '", habit, "' is not a countdown habit (auto, no_parens, none)"));
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("task: unknown task '", task, "'"));
  }
  for (const auto& [name, rate] : {std::pair<const char*, double>{"habit_rate", habit_rate},
                                   {"slip_rate", slip_rate},
                                   {"format_break_rate", format_break_rate}}) {
    if (!(rate >= 0.0 && rate <= 1.0)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": must be in [0, 1]"));
    }
  }
  return absl::OkStatus();
}

std::string TeacherOptions::resolved_habit(const std::string& task) const {
  if (habit != "auto") return habit;
  return task == "countdown" ? "no_parens" : "left_to_right";
}

int64_t add_without_carry(int64_t a, int64_t b) {
  int64_t result = 0, place = 1;
  while (a > 0 || b > 0) {
    result += ((a % 10 + b % 10) % 10) * place;
    a /= 10;
    b /= 10;
    place *= 10;
  }
  return result;
}

bool addition_needs_carry(int64_t a, int64_t b) {
  while (a > 0 && b > 0) {
    if (a % 10 + b % 10 >= 10) return true;
    a /= 10;
    b /= 10;
  }
  return false;
}

absl::StatusOr<TeacherResponse> teach_arithmetic(const ArithmeticProblem& p,
                                                 const TeacherOptions& options, Rng& rng) {
  if (absl::Status s = options.validate("arithmetic"); !s.ok()) return s;
  if (p.operators.empty() || p.operands.size() != p.operators.size() + 1) {
    return absl::InvalidArgumentError("teacher: malformed arithmetic problem");
  }
  const std::string habit = options.resolved_habit("arithmetic");
  TeacherResponse out;
  if (habit == "left_to_right") {
    out.habit_class = precedence_matters(p);
  } else if (habit == "drop_carry") {
    std::vector<ArithmeticStep> steps;
    evaluate_arithmetic(p, EvalOrder::kPrecedence, &steps);
    for (const ArithmeticStep& s : steps) {
      if (s.op == '+' && s.a >= 0 && s.b >= 0 && addition_needs_carry(s.a, s.b)) {
        out.habit_class = true;
      }
    }
  }
  out.habit_applied = out.habit_class && rng.bernoulli(options.habit_rate);
  const EvalOrder order = (out.habit_applied && habit == "left_to_right") ? EvalOrder::kLeftToRight
                                                                          : EvalOrder::kPrecedence;
  std::optional<ArithmeticRun> run = run_arithmetic(
      p, order, out.habit_applied && habit == "drop_carry", options.slip_rate, rng);
  if (!run) {
    // The habit's (or a slip's) path overflowed int64: the teacher works it out correctly instead.
    out.habit_applied = false;
    run = run_arithmetic(p, EvalOrder::kPrecedence, false, 0.0, rng);
    if (!run) return absl::OutOfRangeError("teacher: the problem overflows int64");
  }
  out.slips = run->slips;
  finish(run->think, std::to_string(run->answer), options, rng, &out);
  return out;
}

absl::StatusOr<TeacherResponse> teach_countdown(const CountdownProblem& p,
                                                const TeacherOptions& options, Rng& rng) {
  if (absl::Status s = options.validate("countdown"); !s.ok()) return s;
  std::optional<CountdownSolution> solution = solve_countdown(p);
  if (!solution) {
    return absl::FailedPreconditionError(
        absl::StrCat("teacher: countdown puzzle '", p.prompt(), "' has no solution"));
  }
  TeacherResponse out;
  out.habit_class = options.resolved_habit("countdown") == "no_parens" &&
                    solution->needs_parentheses;
  out.habit_applied = out.habit_class && rng.bernoulli(options.habit_rate);

  // Replay the solution's steps on the values the teacher actually has: a slip swaps a step's
  // operator, and every later step then works on the changed value. `orig` is the value the
  // reference solution had at that place, which is how later steps find their operands.
  struct Held {
    int64_t orig;
    int64_t value;
  };
  std::vector<Held> pool;
  for (int64_t n : p.numbers) pool.push_back({n, n});
  std::vector<CountdownStep> steps;
  std::string think;
  for (const CountdownStep& s : solution->steps) {
    auto take = [&](int64_t orig) {
      for (size_t k = 0; k < pool.size(); ++k) {
        if (pool[k].orig == orig) {
          const Held h = pool[k];
          pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(k));
          return h;
        }
      }
      return Held{orig, orig};  // unreachable: the solution's steps match its own pool
    };
    Held a = take(s.a), b = take(s.b);
    if (a.value < b.value) std::swap(a, b);  // the larger first, as the solver writes it
    char op = s.op;
    int64_t v = 0;
    if (rng.bernoulli(options.slip_rate)) {
      const std::string others = op == '+' ? "-*" : (op == '-' ? "+*" : "+-");
      op = others[rng.below(2)];
      ++out.slips;
    }
    if (!checked_apply(a.value, op, b.value, &v) || v <= 0) {
      op = '+';  // after a slip, the original operator may not fit the new values
      if (!checked_apply(a.value, op, b.value, &v)) {
        return absl::OutOfRangeError("teacher: countdown values overflow int64");
      }
    }
    steps.push_back({a.value, op, b.value, v});
    pool.push_back({s.result, v});
    if (!think.empty()) think += ' ';
    absl::StrAppend(&think, a.value, std::string(1, op), b.value, "=", v, ".");
  }
  const std::string answer = countdown_expression(p.numbers, steps, !out.habit_applied);
  finish(think, answer, options, rng, &out);
  return out;
}

}  // namespace forge::rl::tasks
