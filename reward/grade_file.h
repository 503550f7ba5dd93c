// `forge grade`'s engine: JSONL in, JSONL out, one output line per input line in the same order
// (grade_json.h shapes). A line that is not valid JSON, not an object, has a field of the wrong
// type or names an unknown rule yields {"id": <id or null>, "reward": 0, "error": {"code",
// "message": "line N: ..."}}; it never stops the run. Lines are graded concurrently on the grader's
// pool, a chunk at a time.
//
// Not thread-safe (one call owns its streams); the grader may be shared.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>

#include "absl/status/status.h"
#include "reward/grader.h"

namespace forge::reward {

struct GradeFileStats {
  int64_t lines = 0;
  int64_t errors = 0;       // lines whose output carries "error"
  double reward_sum = 0.0;  // over lines without an error
};

// Errors only for the streams themselves (an output write failed).
absl::Status grade_jsonl(std::istream& in, std::ostream& out, const Grader& grader,
                         GradeFileStats* stats = nullptr);

}  // namespace forge::reward
