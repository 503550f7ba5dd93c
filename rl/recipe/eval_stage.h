// `forge eval` as a whole: the held-out examples (`data`, else eval.data, else data.eval; the
// first eval.max_prompts), the policy (`checkpoint` overrides model.checkpoint), the tokenizer and
// the in-process grader of the run config, evaluated with an in-process engine (evaluator.h).
// Returns the JSON report (plus "checkpoint", "data", "threads") and a one-line summary.
// Thread-safety: a function; it sets torch's thread count.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "rl/config/run_config.h"

namespace forge::rl {

struct EvalStageResult {
  nlohmann::ordered_json report;
  std::string summary;  // "forge eval: 200 prompts, k=8: greedy ... (12.1s generate, 0.3s grade)"
};

// Errors: InvalidArgument / NotFound naming the key or file for bad input.
absl::StatusOr<EvalStageResult> run_eval_stage(RunConfig config, const std::string& checkpoint,
                                               const std::string& data);

}  // namespace forge::rl
