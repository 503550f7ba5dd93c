// A step's reward metrics from its graded samples: reward/mean, reward/std, reward/<rule>/mean per
// component, accuracy (the share whose accuracy component -- accuracy, math, code or countdown --
// is full), format_rate (the share whose format component is full) over the samples that got a
// verdict; response_length/mean and /max (tokens) over every sample; reward/errors (samples whose
// grading failed: an infrastructure failure, never a wrong answer) and reward/errors/<code>.
// A RewardTally holds the sums behind them, so the tallies of several ranks merge into the job's.
// Thread-safety: values.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "reward/grader.h"
#include "rollout/request.h"

namespace forge::rl {

struct RewardTally {
  double graded = 0;  // samples with a verdict
  double reward_sum = 0, reward_sq = 0, accurate = 0, formatted = 0;
  std::map<std::string, std::pair<double, double>> components;  // rule -> (sum, count)
  double samples = 0, length_sum = 0, length_max = 0;           // every sample
  std::map<std::string, double> errors;                          // error code -> samples

  void add(const reward::GradeOutcome& outcome, const rollout::Completion& completion);
  void merge(const RewardTally& other);
  double error_count() const;
  std::map<std::string, double> metrics() const;

  // Exact round trip (for gathering the ranks' tallies).
  std::string to_json() const;
  static absl::StatusOr<RewardTally> from_json(const std::string& text);
};

// 1 when the outcome's accuracy component is full (>= 1), else 0.
bool is_accurate(const reward::GradeOutcome& outcome);
bool is_well_formatted(const reward::GradeOutcome& outcome);

}  // namespace forge::rl
