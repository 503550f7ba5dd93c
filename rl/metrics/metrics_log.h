// The run's metric record: one JSON object per step in run.dir/metrics.jsonl, the same scalars in a
// TensorBoard events file, and an in-memory history that TrainerService.StreamMetrics replays and
// waits on. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rl/metrics/tensorboard_writer.h"

namespace forge::rl {

struct StepRecord {
  int64_t step = 0;
  std::map<std::string, double> values;  // DESIGN.md's metric names
  double wall_time = 0;                  // seconds since the epoch
};

class MetricsLog {
 public:
  // Opens `run_dir`/metrics.jsonl and a new events file under `run_dir`. With `keep_through_step`
  // >= 0 (a resumed run), lines for steps up to it are kept (and replayed by history()) and later
  // ones dropped, as is a last line cut off by a kill; with -1 the file starts empty
  // (keep_lines_through_step).
  static absl::StatusOr<std::unique_ptr<MetricsLog>> open(const std::string& run_dir,
                                                          int64_t keep_through_step);

  // Appends one step (flushed at once) and wakes wait_after().
  absl::Status log(int64_t step, const std::map<std::string, double>& values);

  // Steps with step >= from_step, oldest first.
  std::vector<StepRecord> history(int64_t from_step) const;

  // Blocks until a step after `after_step` is logged, the log is closed, or `timeout` passes;
  // returns the steps after `after_step` (empty on timeout or close).
  std::vector<StepRecord> wait_after(int64_t after_step, std::chrono::milliseconds timeout) const;

  // No more steps: wakes every waiter.
  void close();
  bool closed() const;

  std::optional<StepRecord> last() const;

  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

 private:
  MetricsLog(std::string path, TensorBoardWriter tensorboard);

  const std::string path_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::ofstream out_;
  TensorBoardWriter tensorboard_;
  std::vector<StepRecord> steps_;
  bool closed_ = false;
};

}  // namespace forge::rl
