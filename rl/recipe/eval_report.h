// The numbers of an evaluation, from graded samples (sample_grader.h), per task and over all
// prompts. For a group of P prompts, each with one greedy sample, k samples at the low temperature
// (R1's 0.6, top-p 0.95) and k samples at the high temperature (1.0):
//   greedy        mean over prompts of the greedy sample's accuracy          (pass@1, greedy)
//   pass1_t06     mean over prompts of the mean accuracy of the k low-T samples (R1's pass@1)
//   pass1_t1      the same over the k high-T samples
//   pass_at_k     share of prompts with at least one correct low-T sample (n = k, so the unbiased
//                 estimator is this indicator)
//   maj_at_k      share of prompts whose majority answer over the low-T samples is correct: the
//                 vote is over the extracted answers (samples without one do not vote; ties go to
//                 the answer that reached the count first); no answer at all counts as wrong
//   format_rate   share of the high-T samples that pass the format rule
//   response_length  mean completion length in tokens of the high-T samples
//   n_prompts, k, grading_errors (samples whose grading failed; they count as wrong)
//   standard_errors  {greedy, pass1_t06, pass1_t1, format_rate}: the standard error of each of those
//                 means over prompts (sample std of the per-prompt values / sqrt(n_prompts))
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rl/recipe/sample_grader.h"

namespace forge::rl {

struct PromptResult {
  std::string task;  // the example's meta "task", else its rule
  SampleGrade greedy;
  std::vector<SampleGrade> low;   // k samples at the low temperature
  std::vector<SampleGrade> high;  // k samples at the high temperature
};

// The metrics above for `prompts` (non-empty; every prompt has the same k).
nlohmann::ordered_json group_metrics(const std::vector<const PromptResult*>& prompts);

// {"all": group_metrics(every prompt), "tasks": {"<task>": group_metrics(...), ...}}.
nlohmann::ordered_json eval_report(const std::vector<PromptResult>& prompts);

// The example's task name for the report: meta "task" when it is a string, else the rule.
std::string task_of(const Example& example);

}  // namespace forge::rl
