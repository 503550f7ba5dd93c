#include "rl/tasks/generate.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rl/tasks/answer_check.h"

namespace forge::rl::tasks {
namespace {

// Consecutive draws that hit a known problem before the generator gives up.
constexpr int64_t kMaxConsecutiveRepeats = 20000;

constexpr uint64_t kProblemStream = 1;
constexpr uint64_t kTeacherStream = 2;

// One generated problem before it becomes an Example.
struct Drawn {
  std::string key;
  Example example;
  ArithmeticProblem arithmetic;
  CountdownProblem countdown;
};

absl::StatusOr<Drawn> draw(const GenerateOptions& options, Rng& rng) {
  Drawn d;
  d.example.meta["task"] = options.task;
  if (options.task == "arithmetic") {
    ASSIGN_OR_RETURN(d.arithmetic, generate_arithmetic(options.arithmetic, rng));
    std::optional<int64_t> value = evaluate_arithmetic(d.arithmetic, EvalOrder::kPrecedence);
    d.example.prompt = d.arithmetic.text();
    d.example.answer = std::to_string(*value);  // generate_arithmetic checked it evaluates
    d.example.rule = "math";
  } else {
    CountdownSolution solution;
    ASSIGN_OR_RETURN(d.countdown, generate_countdown(options.countdown, rng, &solution));
    d.example.prompt = d.countdown.prompt();
    d.example.answer = d.countdown.gold();
    d.example.rule = "countdown";
    d.example.meta["solution"] = solution.expression;
  }
  d.key = problem_key(d.example);
  return d;
}

}  // namespace

std::string problem_key(const Example& e) {
  if (e.rule == "countdown") {
    absl::StatusOr<CountdownProblem> p = parse_countdown_gold(e.answer);
    if (p.ok()) return p->key();
  }
  return absl::StrCat(e.rule, ":", e.prompt);
}

absl::StatusOr<std::set<std::string>> load_problem_keys(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<Example> examples, load_jsonl(path));
  std::set<std::string> keys;
  for (const Example& e : examples) keys.insert(problem_key(e));
  return keys;
}

absl::StatusOr<std::vector<Example>> generate_examples(const GenerateOptions& options,
                                                       const std::set<std::string>& exclude,
                                                       GenerateStats* stats) {
  if (options.task != "arithmetic" && options.task != "countdown") {
    return absl::InvalidArgumentError(
        absl::StrCat("task: unknown task '", options.task, "' (known: arithmetic, countdown)"));
  }
  if (options.n <= 0) return absl::InvalidArgumentError("n: must be > 0");
  if (options.task == "arithmetic") RETURN_IF_ERROR(options.arithmetic.validate());
  if (options.task == "countdown") RETURN_IF_ERROR(options.countdown.validate());
  if (options.teacher) RETURN_IF_ERROR(options.teacher_options.validate(options.task));

  GenerateStats local;
  GenerateStats& st = stats != nullptr ? *stats : local;
  st = GenerateStats{};
  Rng rng(Rng::mix(options.seed, kProblemStream));
  std::set<std::string> seen;
  std::vector<Example> examples;
  int64_t repeats = 0;
  while (static_cast<int64_t>(examples.size()) < options.n) {
    ASSIGN_OR_RETURN(Drawn d, draw(options, rng));
    const bool excluded = exclude.count(d.key) > 0;
    if (excluded || seen.count(d.key) > 0) {
      (excluded ? st.excluded_skipped : st.duplicates_skipped) += 1;
      if (++repeats > kMaxConsecutiveRepeats) {
        return absl::FailedPreconditionError(absl::StrCat(
            options.task, ": found only ", examples.size(), " distinct problems of the ",
            options.n, " asked for (", exclude.size(),
            " excluded); the problem space at this difficulty is too small"));
      }
      continue;
    }
    repeats = 0;
    seen.insert(d.key);
    Example& e = d.example;
    const int64_t index = static_cast<int64_t>(examples.size());
    e.id = absl::StrCat(options.task, "-", options.seed, "-", index);
    if (options.teacher) {
      Rng teacher_rng(Rng::mix(Rng::mix(options.seed, kTeacherStream), static_cast<uint64_t>(index)));
      absl::StatusOr<TeacherResponse> t =
          options.task == "arithmetic"
              ? teach_arithmetic(d.arithmetic, options.teacher_options, teacher_rng)
              : teach_countdown(d.countdown, options.teacher_options, teacher_rng);
      if (!t.ok()) return t.status();
      ASSIGN_OR_RETURN(AnswerCheck check, check_task_answer(e, t->response));
      const bool well_formed = is_well_formed(t->response);
      e.completion = t->response;
      e.meta["teacher"] = {{"correct", check.correct},         {"well_formed", well_formed},
                           {"habit_class", t->habit_class},    {"habit_applied", t->habit_applied},
                           {"slips", t->slips},                {"format_broken", t->format_broken}};
      st.teacher_correct += check.correct ? 1 : 0;
      st.teacher_well_formed += well_formed ? 1 : 0;
      st.habit_class += t->habit_class ? 1 : 0;
      st.habit_applied += t->habit_applied ? 1 : 0;
      st.with_slips += t->slips > 0 ? 1 : 0;
      const int64_t chars = static_cast<int64_t>(t->response.size());
      st.response_chars_total += chars;
      st.response_chars_max = std::max(st.response_chars_max, chars);
    }
    examples.push_back(std::move(e));
  }
  st.examples = static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace forge::rl::tasks
