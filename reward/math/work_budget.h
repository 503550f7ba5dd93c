// WorkBudget: bounds the work of one grading call. Parsing, evaluation and comparison call tick()
// in their loops; every 64 ticks it reads the clock, and once the deadline has passed (or the step
// cap is spent) it stays exhausted so every caller unwinds quickly.
// Thread-safety: not thread-safe; one budget per grading call.
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/status/status.h"

namespace forge::reward::math {

class WorkBudget {
 public:
  // max_steps guards against pathological inputs even when no deadline is set.
  explicit WorkBudget(std::chrono::steady_clock::time_point deadline,
                      int64_t max_steps = 20'000'000)
      : deadline_(deadline), max_steps_(max_steps) {}

  // Returns false once the budget is exhausted.
  bool tick() {
    if (exhausted_) return false;
    if (++steps_ > max_steps_) {
      exhausted_ = true;
      deadline_hit_ = false;
      return false;
    }
    if ((steps_ & 63) == 0 && std::chrono::steady_clock::now() > deadline_) {
      exhausted_ = true;
      deadline_hit_ = true;
      return false;
    }
    return true;
  }
  bool exhausted() const { return exhausted_; }
  // DeadlineExceeded when the deadline passed; ResourceExhausted when the step cap was spent.
  absl::Status status() const {
    if (!exhausted_) return absl::OkStatus();
    if (deadline_hit_) return absl::DeadlineExceededError("math grading passed its deadline");
    return absl::ResourceExhaustedError("math grading exceeded its work limit");
  }
  int64_t steps() const { return steps_; }

 private:
  std::chrono::steady_clock::time_point deadline_;
  int64_t max_steps_;
  int64_t steps_ = 0;
  bool exhausted_ = false;
  bool deadline_hit_ = false;
};

}  // namespace forge::reward::math
