#include "rl/trainer/reward_stats.h"

#include <algorithm>
#include <cmath>

namespace forge::rl {
namespace {

constexpr double kFull = 1.0 - 1e-9;

}  // namespace

bool is_accurate(const reward::GradeOutcome& outcome) {
  for (const char* name : {"accuracy", "math", "code", "countdown"}) {
    auto it = outcome.components.find(name);
    if (it != outcome.components.end()) return it->second >= kFull;
  }
  return false;
}

bool is_well_formatted(const reward::GradeOutcome& outcome) {
  auto it = outcome.components.find("format");
  return it != outcome.components.end() && it->second >= kFull;
}

std::map<std::string, double> reward_metrics(
    const std::vector<const reward::GradeOutcome*>& outcomes,
    const std::vector<const rollout::Completion*>& completions) {
  std::map<std::string, double> m;
  const double n = static_cast<double>(outcomes.size());
  double sum = 0, sq = 0, accurate = 0, formatted = 0, length = 0, max_length = 0;
  std::map<std::string, std::pair<double, double>> components;  // rule -> (sum, count)
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const reward::GradeOutcome& o = *outcomes[i];
    sum += o.reward;
    sq += o.reward * o.reward;
    accurate += is_accurate(o) ? 1 : 0;
    formatted += is_well_formatted(o) ? 1 : 0;
    for (const auto& [rule, value] : o.components) {
      components[rule].first += value;
      components[rule].second += 1;
    }
    const double len = static_cast<double>(completions[i]->token_ids.size());
    length += len;
    max_length = std::max(max_length, len);
  }
  const double mean = n > 0 ? sum / n : 0.0;
  m["reward/mean"] = mean;
  // Population std over the step's completions.
  m["reward/std"] = n > 0 ? std::sqrt(std::max(0.0, sq / n - mean * mean)) : 0.0;
  for (const auto& [rule, acc] : components) {
    m["reward/" + rule + "/mean"] = acc.second > 0 ? acc.first / acc.second : 0.0;
  }
  m["accuracy"] = n > 0 ? accurate / n : 0.0;
  m["format_rate"] = n > 0 ? formatted / n : 0.0;
  m["response_length/mean"] = n > 0 ? length / n : 0.0;
  m["response_length/max"] = max_length;
  return m;
}

}  // namespace forge::rl
