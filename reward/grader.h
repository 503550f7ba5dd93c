// The grading engine behind `forge grade` and the reward server: a rule registry, the configured
// mix and a pool of grading threads. An item names a rule ("math", a plugin's name, ...) or "" for
// the configured mix.
//
// Thread-safe: every method may be called from any number of threads. Tasks keep the registry alive
// (shared ownership), so a rule that overruns its deadline never outlives the rules it uses.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reward/grade_error.h"
#include "reward/grading_backend.h"
#include "reward/grading_pool.h"
#include "reward/reward_config.h"
#include "reward/reward_mix.h"
#include "reward/rule_registry.h"

namespace forge::reward {

// One graded item, shaped like an output line of `forge grade`.
struct GradeOutcome {
  std::string id;
  double reward = 0.0;
  std::map<std::string, double> components;  // rule name -> reward before weighting
  std::string detail;
  // Non-empty: the item has no verdict (reward 0, no components, no detail); `error` says why and
  // `error_code` is one of reward/grade_error.h's codes (invalid_item, timeout, sandbox_crashed,
  // ...). Never set for a wrong answer.
  std::string error;
  std::string error_code;
};

// The outcome of an item that got no verdict: `status` (not OK) gives the message and, through
// error_code_of(), the code.
GradeOutcome error_outcome(const GradeItem& item, const absl::Status& status);

struct RuleInfo {
  std::string name;
  std::string description;
  double weight = 0.0;  // in the configured mix; 0 when not in it
  RewardRange range;
};

struct BatchOptions {
  // Per item, counted from when its grading starts; <= 0: the config's timeout_s.
  double item_timeout_s = 0.0;
  // The whole batch (an RPC's deadline): past it grade_batch returns DeadlineExceeded and items
  // not yet started are skipped.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Polled while waiting; true: give up with Cancelled, skipping items not yet started.
  std::function<bool()> cancelled;
};

class Grader : public GradingBackend {
 public:
  // Builds the registry (built-ins + plugins) and the mix from `config`.
  static absl::StatusOr<std::unique_ptr<Grader>> create(const RewardConfig& config);
  // With a registry built by the caller (extra rules added by hand).
  static absl::StatusOr<std::unique_ptr<Grader>> create(std::unique_ptr<RuleRegistry> registry,
                                                        const RewardConfig& config);
  ~Grader();
  Grader(const Grader&) = delete;
  Grader& operator=(const Grader&) = delete;

  // The checks done before an item is queued: its rule exists ("rule: unknown rule 'mth' (known:
  // ...)") and the item has what that rule (or the mix) needs. Messages name the item's field.
  absl::Status check(const GradeItem& item) const override;

  // Grades one item in the calling thread. Errors (including exceptions thrown by a rule) land in
  // the outcome's `error`; never throws.
  GradeOutcome grade_one(const GradeItem& item, std::chrono::steady_clock::time_point deadline) const;

  // Grades `items` concurrently on the pool; results in the same order. Items failing check() get
  // an error outcome without being queued. An item whose rule overruns its deadline gets an error
  // outcome once the deadline (+1 s) passes. Errors: ResourceExhausted when the batch does not fit
  // the queue; DeadlineExceeded / Cancelled per `options`.
  absl::StatusOr<std::vector<GradeOutcome>> grade_batch(const std::vector<GradeItem>& items,
                                                        const BatchOptions& options) const;

  // GradingBackend: grade_batch with the config's item timeout and no batch deadline, in slices
  // that fit the queue (queue_limit), so a batch of any size is graded.
  absl::StatusOr<std::vector<GradeOutcome>> grade(
      const std::vector<GradeItem>& items) const override;

  std::vector<RuleInfo> rules() const;  // sorted by name
  const RewardConfig& config() const;
  int concurrency() const { return pool_->threads(); }
  const GradingPool& pool() const { return *pool_; }

 private:
  struct Core;
  Grader(std::shared_ptr<const Core> core, std::unique_ptr<GradingPool> pool);

  std::shared_ptr<const Core> core_;
  std::unique_ptr<GradingPool> pool_;
};

}  // namespace forge::reward
