// One interface for grading, with two homes: the in-process Grader (grader.h) and RewardClient
// (reward_client.h, a reward server over gRPC). The trainer, the evaluator, the distiller and the
// sample grader take a GradingBackend and do not know which one they drive.
//
// Each outcome carries its item's `id`; outcomes are joined to what was graded by id, never by
// position (grade_joined below does it for callers).
// Thread-safety: implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reward/reward_rule.h"

namespace forge::reward {

struct GradeOutcome;

class GradingBackend {
 public:
  virtual ~GradingBackend() = default;

  // The checks done before anything is graded or generated: the item's rule exists and the item
  // has what the rule needs. Messages name the item's field.
  virtual absl::Status check(const GradeItem& item) const = 0;

  // One outcome per item (an item that could not be graded has `error` set). Errors: the whole
  // call failed (a bad item, an unreachable server, a deadline).
  virtual absl::StatusOr<std::vector<GradeOutcome>> grade(
      const std::vector<GradeItem>& items) const = 0;
};

// Grades `items` (their ids unique) and returns one outcome per item in the order of `items`,
// joined by id whatever order the backend answered in. INTERNAL when an outcome answers no item
// (or one answered already), or an item gets none.
absl::StatusOr<std::vector<GradeOutcome>> grade_joined(const GradingBackend& grading,
                                                       const std::vector<GradeItem>& items);

}  // namespace forge::reward
