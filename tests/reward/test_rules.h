// Rules with controllable timing for the reward tests: they let a test fill the grading queue,
// overrun a deadline, or throw, deterministically.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "reward/grader.h"
#include "reward/reward_rule.h"
#include "reward/rule_registry.h"

namespace forge::reward::testing {

// A latch the `gate` rule waits on.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> entered{0};  // grade() calls that started

  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  // Waits until `n` grade() calls have started (or 5 s passed).
  bool wait_entered(int n) {
    for (int i = 0; i < 500 && entered.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return entered.load() >= n;
  }
};

// "gate": blocks until the gate opens (reward 1) or the item's deadline passes (DeadlineExceeded).
class GateRule final : public RewardRule {
 public:
  explicit GateRule(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::string name() const override { return "gate"; }
  std::string description() const override { return "waits for the test to open the gate"; }
  absl::StatusOr<RuleResult> grade(const GradeItem&,
                                   std::chrono::steady_clock::time_point deadline) const override {
    ++gate_->entered;
    std::unique_lock<std::mutex> lock(gate_->mu);
    if (!gate_->cv.wait_until(lock, deadline, [&] { return gate_->open; })) {
      return absl::DeadlineExceededError("gate: still closed at the deadline");
    }
    return RuleResult{1.0, "gate opened"};
  }

 private:
  std::shared_ptr<Gate> gate_;
};

// "stubborn": ignores its deadline and sleeps for `sleep` (a misbehaving plugin).
class StubbornRule final : public RewardRule {
 public:
  explicit StubbornRule(std::chrono::milliseconds sleep) : sleep_(sleep) {}
  std::string name() const override { return "stubborn"; }
  std::string description() const override { return "ignores its deadline"; }
  absl::StatusOr<RuleResult> grade(const GradeItem&,
                                   std::chrono::steady_clock::time_point) const override {
    std::this_thread::sleep_for(sleep_);
    return RuleResult{1.0, "finally"};
  }

 private:
  std::chrono::milliseconds sleep_;
};

// "thrower": throws from grade() (a rule with a bug).
class ThrowingRule final : public RewardRule {
 public:
  std::string name() const override { return "thrower"; }
  std::string description() const override { return "throws"; }
  absl::StatusOr<RuleResult> grade(const GradeItem&,
                                   std::chrono::steady_clock::time_point) const override {
    throw std::runtime_error("boom");
  }
};

// "fixed": returns `reward` (which may lie outside [0, 1], to test the range check).
class FixedRule final : public RewardRule {
 public:
  FixedRule(std::string name, double reward) : name_(std::move(name)), reward_(reward) {}
  std::string name() const override { return name_; }
  std::string description() const override { return "a fixed reward"; }
  absl::StatusOr<RuleResult> grade(const GradeItem&,
                                   std::chrono::steady_clock::time_point) const override {
    return RuleResult{reward_, "fixed"};
  }

 private:
  std::string name_;
  double reward_;
};

// A grader over the configured built-ins plus the test rules above.
inline std::unique_ptr<Grader> make_test_grader(const RewardConfig& config,
                                                std::shared_ptr<Gate> gate) {
  auto registry = RuleRegistry::create(config);
  if (!registry.ok()) throw std::runtime_error(std::string(registry.status().message()));
  (void)(*registry)->add(std::make_unique<GateRule>(std::move(gate)));
  (void)(*registry)->add(std::make_unique<StubbornRule>(std::chrono::milliseconds(2500)));
  (void)(*registry)->add(std::make_unique<ThrowingRule>());
  (void)(*registry)->add(std::make_unique<FixedRule>("too_big", 1.5));
  auto grader = Grader::create(std::move(registry).value(), config);
  if (!grader.ok()) throw std::runtime_error(std::string(grader.status().message()));
  return std::move(grader).value();
}

}  // namespace forge::reward::testing
