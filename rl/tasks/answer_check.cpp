#include "rl/tasks/answer_check.h"

#include "absl/strings/str_cat.h"
#include "reward/countdown/countdown.h"
#include "rl/tasks/countdown.h"
#include "rl/tasks/expression.h"

namespace forge::rl::tasks {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kAnswerOpen = "<answer>";
constexpr std::string_view kAnswerClose = "</answer>";

bool has_tag(std::string_view s) {
  for (std::string_view tag : {kThinkOpen, kThinkClose, kAnswerOpen, kAnswerClose}) {
    if (s.find(tag) != std::string_view::npos) return true;
  }
  return false;
}

// Consumes `token` at the front of `s` (after leading whitespace).
bool eat(std::string_view& s, std::string_view token) {
  const size_t start = s.find_first_not_of(" \t\n\r\f\v");
  s.remove_prefix(start == std::string_view::npos ? s.size() : start);
  if (s.substr(0, token.size()) != token) return false;
  s.remove_prefix(token.size());
  return true;
}

}  // namespace

std::optional<std::string> extract_answer(std::string_view response) {
  return reward::countdown::answer_tag(response);
}

bool is_well_formed(std::string_view response) {
  std::string_view s = response;
  if (!eat(s, kThinkOpen)) return false;
  const size_t think_end = s.find(kThinkClose);
  if (think_end == std::string_view::npos || has_tag(s.substr(0, think_end))) return false;
  s.remove_prefix(think_end + kThinkClose.size());
  if (!eat(s, kAnswerOpen)) return false;
  const size_t answer_end = s.find(kAnswerClose);
  if (answer_end == std::string_view::npos) return false;
  const std::string_view answer = s.substr(0, answer_end);
  if (has_tag(answer) || strip_whitespace(answer).empty()) return false;
  s.remove_prefix(answer_end + kAnswerClose.size());
  return strip_whitespace(s).empty();
}

AnswerCheck check_integer_answer(std::string_view response, std::string_view gold) {
  AnswerCheck check;
  std::optional<std::string> extracted = extract_answer(response);
  if (!extracted) {
    check.detail = "no <answer>...</answer>";
    return check;
  }
  check.extracted = *extracted;
  int64_t want = 0, got = 0;
  if (!parse_int64(strip_whitespace(gold), &want)) {
    check.detail = absl::StrCat("the gold answer '", std::string(gold), "' is not an integer");
    return check;
  }
  if (!parse_int64(check.extracted, &got)) {
    check.detail = absl::StrCat("'", check.extracted, "' is not an integer");
    return check;
  }
  check.correct = got == want;
  check.detail = check.correct ? "correct" : absl::StrCat(got, " != ", want);
  return check;
}

absl::StatusOr<AnswerCheck> check_task_answer(const Example& example, std::string_view response) {
  if (example.rule == "countdown") return check_countdown(response, example.answer);
  int64_t unused;
  if (example.rule == "math" && parse_int64(strip_whitespace(example.answer), &unused)) {
    return check_integer_answer(response, example.answer);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("example ", example.id, ": no task checker for rule '", example.rule,
                   "' with answer '", example.answer, "'"));
}

}  // namespace forge::rl::tasks
