// Step metrics from graded completions: reward/mean, reward/std, reward/<rule>/mean per component,
// accuracy (the share whose accuracy component — accuracy, math, code or countdown — is full),
// format_rate (the share whose format component is full), response_length/mean and /max (tokens).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "reward/grader.h"
#include "rollout/request.h"

namespace forge::rl {

// `outcomes[i]` grades `completions[i]`.
std::map<std::string, double> reward_metrics(
    const std::vector<const reward::GradeOutcome*>& outcomes,
    const std::vector<const rollout::Completion*>& completions);

// 1 when the outcome's accuracy component is full (>= 1), else 0.
bool is_accurate(const reward::GradeOutcome& outcome);
bool is_well_formatted(const reward::GradeOutcome& outcome);

}  // namespace forge::rl
