#include "reward/countdown/countdown.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reward/countdown/expression.h"

namespace forge::reward::countdown {
namespace {

constexpr std::string_view kAnswerOpen = "<answer>";
constexpr std::string_view kAnswerClose = "</answer>";

std::string sorted_numbers(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return absl::StrJoin(v, ",");
}

}  // namespace

absl::StatusOr<Puzzle> parse_gold(std::string_view gold) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("countdown answer '", std::string(gold),
                                                   "': expected '<target> from <n1>,<n2>,...'"));
  };
  constexpr std::string_view kFrom = " from ";
  const size_t from = gold.find(kFrom);
  if (from == std::string_view::npos) return bad();
  Puzzle p;
  if (!parse_int64(strip_whitespace(gold.substr(0, from)), &p.target)) return bad();
  std::string_view rest = gold.substr(from + kFrom.size());
  while (true) {
    const size_t comma = rest.find(',');
    int64_t v;
    if (!parse_int64(strip_whitespace(rest.substr(0, comma)), &v)) return bad();
    p.numbers.push_back(v);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (p.numbers.size() < 2) return bad();
  return p;
}

std::optional<std::string> answer_tag(std::string_view response) {
  const size_t close = response.rfind(kAnswerClose);
  if (close == std::string_view::npos) return std::nullopt;
  const size_t open = response.rfind(kAnswerOpen, close);
  if (open == std::string_view::npos) return std::nullopt;
  const size_t start = open + kAnswerOpen.size();
  return std::string(strip_whitespace(response.substr(start, close - start)));
}

Verdict check(std::string_view response, std::string_view gold) {
  Verdict v;
  absl::StatusOr<Puzzle> p = parse_gold(gold);
  if (!p.ok()) {
    v.detail = std::string(p.status().message());
    return v;
  }
  std::optional<std::string> extracted = answer_tag(response);
  if (!extracted) {
    v.detail = "no <answer>...</answer>";
    return v;
  }
  v.extracted = *extracted;
  absl::StatusOr<EvaluatedExpression> e = evaluate_expression(v.extracted);
  if (!e.ok()) {
    v.detail = std::string(e.status().message());
    return v;
  }
  if (sorted_numbers(e->literals) != sorted_numbers(p->numbers)) {
    v.detail = absl::StrCat("uses ", sorted_numbers(e->literals), ", the puzzle gives ",
                            sorted_numbers(p->numbers));
    return v;
  }
  if (!e->value.is_integer() || e->value.num != p->target) {
    v.detail = e->value.is_integer()
                   ? absl::StrCat("makes ", e->value.num, ", not ", p->target)
                   : absl::StrCat("makes ", e->value.num, "/", e->value.den, ", not ", p->target);
    return v;
  }
  v.correct = true;
  v.detail = "correct";
  return v;
}

}  // namespace forge::reward::countdown
