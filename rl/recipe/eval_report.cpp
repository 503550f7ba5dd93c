#include "rl/recipe/eval_report.h"

#include <cmath>
#include <map>
#include <numeric>

namespace forge::rl {
namespace {

double mean_correct(const std::vector<SampleGrade>& samples) {
  if (samples.empty()) return 0.0;
  double n = 0;
  for (const SampleGrade& s : samples) n += s.correct ? 1 : 0;
  return n / static_cast<double>(samples.size());
}

bool any_correct(const std::vector<SampleGrade>& samples) {
  for (const SampleGrade& s : samples) {
    if (s.correct) return true;
  }
  return false;
}

// The majority answer's correctness (see the header for the vote's rules).
bool majority_correct(const std::vector<SampleGrade>& samples) {
  std::map<std::string, int> votes;
  const SampleGrade* best = nullptr;
  int best_votes = 0;
  for (const SampleGrade& s : samples) {
    if (s.answer.empty()) continue;
    const int v = ++votes[s.answer];
    if (v > best_votes) {
      best_votes = v;
      best = &s;
    }
  }
  return best != nullptr && best->correct;
}

// The standard error of the mean of per-prompt values: sample std / sqrt(n) (0 for n < 2).
double standard_error(const std::vector<double>& values) {
  const double n = static_cast<double>(values.size());
  if (n < 2) return 0.0;
  // The sum over n, not a sum of v / n: the sum of constant values is exact, so is their mean, and
  // a constant metric (every sample well formed) gets a standard error of exactly 0.
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (n - 1) / n);
}

}  // namespace

std::string task_of(const Example& example) {
  auto it = example.meta.find("task");
  if (it != example.meta.end() && it->is_string()) return it->get<std::string>();
  return example.rule;
}

nlohmann::ordered_json group_metrics(const std::vector<const PromptResult*>& prompts) {
  double greedy = 0, low = 0, high = 0, pass_k = 0, maj_k = 0;
  double formatted = 0, high_samples = 0, length = 0;
  int64_t errors = 0;
  std::vector<double> greedy_of, low_of, high_of, format_of;  // per prompt
  for (const PromptResult* p : prompts) {
    greedy += p->greedy.correct ? 1 : 0;
    low += mean_correct(p->low);
    high += mean_correct(p->high);
    greedy_of.push_back(p->greedy.correct ? 1 : 0);
    low_of.push_back(mean_correct(p->low));
    high_of.push_back(mean_correct(p->high));
    double prompt_formatted = 0;
    for (const SampleGrade& s : p->high) prompt_formatted += s.well_formed ? 1 : 0;
    format_of.push_back(p->high.empty() ? 0.0 : prompt_formatted / p->high.size());
    pass_k += any_correct(p->low) ? 1 : 0;
    maj_k += majority_correct(p->low) ? 1 : 0;
    for (const SampleGrade& s : p->high) {
      formatted += s.well_formed ? 1 : 0;
      length += static_cast<double>(s.tokens);
      high_samples += 1;
    }
    errors += p->greedy.error.empty() ? 0 : 1;
    for (const auto* samples : {&p->low, &p->high}) {
      for (const SampleGrade& s : *samples) errors += s.error.empty() ? 0 : 1;
    }
  }
  const double n = prompts.empty() ? 1.0 : static_cast<double>(prompts.size());
  nlohmann::ordered_json j;
  j["greedy"] = greedy / n;
  j["pass1_t06"] = low / n;
  j["pass1_t1"] = high / n;
  j["pass_at_k"] = pass_k / n;
  j["maj_at_k"] = maj_k / n;
  j["format_rate"] = high_samples > 0 ? formatted / high_samples : 0.0;
  j["response_length"] = high_samples > 0 ? length / high_samples : 0.0;
  j["n_prompts"] = prompts.size();
  j["k"] = prompts.empty() ? 0 : prompts.front()->low.size();
  j["grading_errors"] = errors;
  j["standard_errors"] = {{"greedy", standard_error(greedy_of)},
                          {"pass1_t06", standard_error(low_of)},
                          {"pass1_t1", standard_error(high_of)},
                          {"format_rate", standard_error(format_of)}};
  return j;
}

nlohmann::ordered_json eval_report(const std::vector<PromptResult>& prompts) {
  std::vector<const PromptResult*> all;
  std::map<std::string, std::vector<const PromptResult*>> by_task;
  for (const PromptResult& p : prompts) {
    all.push_back(&p);
    by_task[p.task].push_back(&p);
  }
  nlohmann::ordered_json report;
  report["all"] = group_metrics(all);
  report["tasks"] = nlohmann::ordered_json::object();
  for (const auto& [task, group] : by_task) report["tasks"][task] = group_metrics(group);
  return report;
}

}  // namespace forge::rl
