// A fixed number of grading threads over a bounded FIFO queue, shared by every batch a reward
// server or `forge grade` runs.
//
// A rule is supposed to return before its deadline, but a plugin or a bug may not: a thread that
// runs one task longer than the task's max_seconds (+ kStuckGrace) is written off as stuck and
// replaced by a fresh thread, so concurrency never silently shrinks. The stuck thread exits when
// its task finally returns. Threads are detached and share the pool's state, so destroying the pool
// never waits on a stuck task.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"

namespace forge::reward {

class GradingPool {
 public:
  static constexpr std::chrono::milliseconds kStuckGrace{2000};

  struct Task {
    // Called once: with true on a grading thread to run the task, or with false (on the thread
    // destroying the pool) when it will never run.
    std::function<void(bool run)> fn;
    double max_seconds = 60.0;  // how long it may run before its thread is written off
  };

  // threads >= 1; queue_limit >= 1 (tasks waiting to start, running ones not counted).
  GradingPool(int threads, int queue_limit);
  ~GradingPool();  // cancels waiting tasks, waits for running ones (not for stuck ones)
  GradingPool(const GradingPool&) = delete;
  GradingPool& operator=(const GradingPool&) = delete;

  // Queues all of `tasks` or none: ResourceExhausted naming reward.queue_limit when they do not
  // fit, Unavailable once the pool is shutting down.
  absl::Status submit(std::vector<Task> tasks);

  int threads() const { return threads_; }
  int queued() const;  // tasks waiting to start
  int stuck() const;   // threads written off and still running their task

  struct State;  // shared by the pool and its threads (grading_pool.cpp)

 private:
  const int threads_;
  std::shared_ptr<State> state_;
};

}  // namespace forge::reward
