// Writes TensorBoard scalar summaries as a tfevents file (TFRecord framing of tensorboard.Event
// protos, proto/tensorboard/event.proto), so `tensorboard --logdir run.dir` shows every metric.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace forge::rl {

class TensorBoardWriter {
 public:
  // Creates `dir`/events.out.tfevents.<unix seconds>.<host>.<pid> and writes the version event.
  static absl::StatusOr<TensorBoardWriter> open(const std::string& dir);

  // One Event per call, holding every scalar of `values`; flushed so a reader sees it at once.
  absl::Status add_scalars(int64_t step, const std::map<std::string, double>& values,
                           double wall_time);

  const std::string& path() const { return path_; }

 private:
  explicit TensorBoardWriter(std::string path);
  absl::Status write_record(const std::string& data);

  std::string path_;
  std::ofstream out_;
};

// Reads back the records of a tfevents file, verifying both CRCs of each (for tests and tools).
absl::StatusOr<std::vector<std::string>> read_tfrecords(const std::string& path);

}  // namespace forge::rl
