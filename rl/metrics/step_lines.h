// The run's JSONL files with one "step" per line (metrics.jsonl, samples.jsonl) when a run starts:
// on a resume the steps after the checkpoint are trained again, so their lines go, and so does a
// last line that a kill cut off (no newline); a fresh run starts the file empty.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::rl {

struct StepLine {
  std::string text;  // the line, without its newline
  int number = 0;    // its line number in the file (1-based), for error messages
};

// Rewrites `path` atomically with the lines whose "step" is at most `keep_through_step`, in their
// order, and returns them; with `keep_through_step` < 0 or no file at `path`, writes it empty.
// DataLoss naming path:line for a complete line that is not a JSON object with an integer "step".
absl::StatusOr<std::vector<StepLine>> keep_lines_through_step(const std::string& path,
                                                              int64_t keep_through_step);

}  // namespace forge::rl
