// The client of a reward server, the GradingBackend of a trainer whose grading runs elsewhere: one
// Grade call per batch of completions.
//
// Thread-safe: one RewardClient may be shared by many threads (gRPC channels and stubs are).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reward/grader.h"
#include "reward/grading_backend.h"
#include "reward/reward_rule.h"

namespace forge::reward {

struct GradeCallOptions {
  // The whole call, retries included.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  // Per item on the server; 0: the server's reward.timeout_s.
  double item_timeout_s = 0.0;
  // RESOURCE_EXHAUSTED (the server's queue is full) is retried with backoff until `timeout`.
  bool retry_when_busy = true;
};

class RewardClient : public GradingBackend {
 public:
  explicit RewardClient(const std::string& address);
  ~RewardClient();
  RewardClient(const RewardClient&) = delete;
  RewardClient& operator=(const RewardClient&) = delete;

  // Grades `items` (results in the same order, one per item; an item that could not be graded
  // has `error` set and reward 0). Errors: the server's status, e.g. InvalidArgument
  // "items[3].rule: unknown rule 'mth' ...", DeadlineExceeded, Unavailable.
  absl::StatusOr<std::vector<GradeOutcome>> grade(const std::vector<GradeItem>& items,
                                                  const GradeCallOptions& options) const;
  // GradingBackend: grade() with the default GradeCallOptions.
  absl::StatusOr<std::vector<GradeOutcome>> grade(
      const std::vector<GradeItem>& items) const override;
  // The server's rule list (asked once, then cached) has the item's rule; the item's fields are
  // checked by the server when it grades (INVALID_ARGUMENT naming the field).
  absl::Status check(const GradeItem& item) const override;

  absl::StatusOr<std::vector<RuleInfo>> list_rules(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  const std::string& address() const { return address_; }

 private:
  struct Stub;
  std::string address_;
  std::unique_ptr<Stub> stub_;
  mutable std::mutex rules_mu_;
  mutable std::optional<std::vector<RuleInfo>> rules_;  // ListRules' answer, once it succeeded
};

}  // namespace forge::reward
