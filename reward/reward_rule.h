// A reward rule grades one completion against its reference and returns a reward with a short,
// human-readable detail. Rules are created by name from the registry (built-ins and plugins) and
// combined with weights by the reward mix.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge::reward {

// One item to grade, shaped like an input line of `forge grade` (DESIGN.md).
struct GradeItem {
  std::string id;
  std::string rule;         // "math" | "format" | "code" | "length" | plugin name | "" (the mix)
  std::string completion;   // the model's whole completion
  std::string answer;       // reference answer (math)
  std::string prediction;   // an already extracted answer (math): normalise and compare only
  nlohmann::json tests;     // code tests: {"kind":"humaneval"|"asserts"|"stdio", ...}
  int completion_tokens = -1;  // length in tokens when known (length rule); -1 = unknown
};

struct RuleResult {
  double reward = 0.0;
  std::string detail;  // one line: why this reward (extracted answer, failing test, ...)
};

// The closed interval a rule's rewards lie in. Most rules grade in [0, 1]; a penalty such as the
// length rule's lies in [-1, 0]. The registry rejects a result outside it (a buggy plugin).
struct RewardRange {
  double min = 0.0;
  double max = 1.0;
};

// Thread-safe: grade() may be called concurrently from many threads.
class RewardRule {
 public:
  virtual ~RewardRule() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // Grades `item`, finishing before `deadline` (a rule that cannot must return
  // DeadlineExceeded). An error status means "could not grade" (bad input: InvalidArgument naming the
  // field), not "wrong answer": a wrong answer is an OK result with reward 0.
  virtual absl::StatusOr<RuleResult> grade(const GradeItem& item,
                                           std::chrono::steady_clock::time_point deadline) const = 0;
  // The interval every reward of this rule lies in.
  virtual RewardRange range() const { return {}; }
  // A cheap structural check, run before an item is queued: InvalidArgument naming the field when
  // `item` lacks what this rule grades against or has it malformed ("answer: the math rule needs a
  // reference answer", "tests.kind: unknown kind 'x'"). The reward server rejects such items with
  // INVALID_ARGUMENT ("items[3].answer: ..."), `forge grade` reports them on their line.
  virtual absl::Status check(const GradeItem& /*item*/) const { return absl::OkStatus(); }
  // Whether the configured mix grades `item` with this rule at all: the mix skips rules that do not
  // apply (a code item is not graded by math). A rule named explicitly by an item always runs.
  virtual bool applies_to(const GradeItem& item) const { return check(item).ok(); }
};

}  // namespace forge::reward
