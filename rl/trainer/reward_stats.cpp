#include "rl/trainer/reward_stats.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

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

void RewardTally::add(const reward::GradeOutcome& o, const rollout::Completion& completion) {
  const double length = static_cast<double>(completion.token_ids.size());
  samples += 1;
  length_sum += length;
  length_max = std::max(length_max, length);
  if (!o.error.empty()) {
    errors[o.error_code.empty() ? "unknown" : o.error_code] += 1;
    return;
  }
  graded += 1;
  reward_sum += o.reward;
  reward_sq += o.reward * o.reward;
  accurate += is_accurate(o) ? 1 : 0;
  formatted += is_well_formatted(o) ? 1 : 0;
  for (const auto& [rule, value] : o.components) {
    components[rule].first += value;
    components[rule].second += 1;
  }
}

void RewardTally::merge(const RewardTally& o) {
  graded += o.graded;
  reward_sum += o.reward_sum;
  reward_sq += o.reward_sq;
  accurate += o.accurate;
  formatted += o.formatted;
  for (const auto& [rule, acc] : o.components) {
    components[rule].first += acc.first;
    components[rule].second += acc.second;
  }
  samples += o.samples;
  length_sum += o.length_sum;
  length_max = std::max(length_max, o.length_max);
  for (const auto& [code, n] : o.errors) errors[code] += n;
}

double RewardTally::error_count() const {
  double n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

std::map<std::string, double> RewardTally::metrics() const {
  std::map<std::string, double> m;
  const double n = graded;
  const double mean = n > 0 ? reward_sum / n : 0.0;
  m["reward/mean"] = mean;
  // Population std over the step's graded samples.
  m["reward/std"] = n > 0 ? std::sqrt(std::max(0.0, reward_sq / n - mean * mean)) : 0.0;
  for (const auto& [rule, acc] : components) {
    m["reward/" + rule + "/mean"] = acc.second > 0 ? acc.first / acc.second : 0.0;
  }
  m["accuracy"] = n > 0 ? accurate / n : 0.0;
  m["format_rate"] = n > 0 ? formatted / n : 0.0;
  m["response_length/mean"] = samples > 0 ? length_sum / samples : 0.0;
  m["response_length/max"] = length_max;
  m["reward/errors"] = error_count();
  for (const auto& [code, count] : errors) m["reward/errors/" + code] = count;
  return m;
}

std::string RewardTally::to_json() const {
  nlohmann::json j = {{"graded", graded},         {"reward_sum", reward_sum},
                      {"reward_sq", reward_sq},   {"accurate", accurate},
                      {"formatted", formatted},   {"samples", samples},
                      {"length_sum", length_sum}, {"length_max", length_max},
                      {"errors", errors}};
  for (const auto& [rule, acc] : components) j["components"][rule] = {acc.first, acc.second};
  return j.dump();
}

absl::StatusOr<RewardTally> RewardTally::from_json(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    RewardTally t;
    t.graded = j.at("graded").get<double>();
    t.reward_sum = j.at("reward_sum").get<double>();
    t.reward_sq = j.at("reward_sq").get<double>();
    t.accurate = j.at("accurate").get<double>();
    t.formatted = j.at("formatted").get<double>();
    t.samples = j.at("samples").get<double>();
    t.length_sum = j.at("length_sum").get<double>();
    t.length_max = j.at("length_max").get<double>();
    t.errors = j.at("errors").get<std::map<std::string, double>>();
    if (j.contains("components")) {
      for (const auto& [rule, acc] : j.at("components").items()) {
        t.components[rule] = {acc.at(0).get<double>(), acc.at(1).get<double>()};
      }
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(std::string("reward tally: ") + e.what());
  }
}

}  // namespace forge::rl
