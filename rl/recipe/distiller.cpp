#include "rl/recipe/distiller.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"

namespace forge::rl {
using Clock = std::chrono::steady_clock;

nlohmann::ordered_json DistillStats::to_json() const {
  nlohmann::ordered_json j;
  j["prompts"] = prompts;
  j["samples"] = samples;
  j["correct"] = correct;
  j["well_formed"] = well_formed;
  j["accepted_samples"] = accepted_samples;
  j["acceptance_rate"] = samples > 0 ? double(accepted_samples) / double(samples) : 0.0;
  j["duplicates"] = duplicates;
  j["over_cap"] = over_cap;
  j["kept"] = kept;
  j["prompts_with_kept"] = prompts_with_kept;
  j["generate_seconds"] = generate_seconds;
  j["grade_seconds"] = grade_seconds;
  return j;
}

std::vector<Example> select_accepted(const Example& example,
                                     const std::vector<std::string>& responses,
                                     const std::vector<SampleGrade>& grades,
                                     const DistillOptions& options, DistillStats& stats) {
  std::vector<Example> kept;
  std::set<std::string> seen;
  for (size_t i = 0; i < responses.size() && i < grades.size(); ++i) {
    ++stats.samples;
    stats.correct += grades[i].correct ? 1 : 0;
    stats.well_formed += grades[i].well_formed ? 1 : 0;
    if (!grades[i].correct || !grades[i].well_formed) continue;
    ++stats.accepted_samples;
    const std::string& response = responses[i];
    if (options.dedup && !seen.insert(response).second) {
      ++stats.duplicates;
      continue;
    }
    if (options.max_per_prompt > 0 && static_cast<int>(kept.size()) >= options.max_per_prompt) {
      ++stats.over_cap;
      continue;
    }
    Example e = example;
    e.id = absl::StrCat(example.id, "#", i);
    e.completion = response;
    e.meta.erase("teacher");
    e.meta["distill"] = {{"sample", i}};
    kept.push_back(std::move(e));
  }
  stats.kept += static_cast<int64_t>(kept.size());
  stats.prompts_with_kept += kept.empty() ? 0 : 1;
  ++stats.prompts;
  return kept;
}

absl::StatusOr<std::vector<Example>> rejection_sample(
    rollout::GenerationBackend& generation, const policy::Tokenizer& tokenizer,
    const ChatTemplate& chat, const reward::GradingBackend& grading,
    const std::vector<Example>& examples, const DistillOptions& options, DistillStats& stats,
    const std::function<bool()>& stop, const std::function<void(const DistillStats&)>& progress) {
  for (const Example& e : examples) RETURN_IF_ERROR(check_gradable(grading, e));
  std::vector<Example> kept;
  const size_t chunk = static_cast<size_t>(std::max(1, options.prompts_per_request));
  const size_t k = static_cast<size_t>(options.k);
  for (size_t first = 0; first < examples.size(); first += chunk) {
    if (stop && stop()) return absl::CancelledError("distill: stopped");
    const size_t last = std::min(examples.size(), first + chunk);
    rollout::GenerationRequest request;
    for (size_t i = first; i < last; ++i) {
      request.prompts.push_back(tokenizer.encode_prompt(chat.render(examples[i].prompt)));
    }
    request.first_prompt_index = static_cast<int64_t>(first);  // seeds follow the global index
    request.sampling.temperature = options.temperature;
    request.sampling.top_p = options.top_p;
    request.sampling.n = options.k;
    request.sampling.max_new_tokens = options.max_new_tokens;
    request.sampling.seed = options.seed;
    const auto generate_start = Clock::now();
    ASSIGN_OR_RETURN(std::vector<rollout::Completion> completions, generation.generate(request));
    stats.generate_seconds += seconds_since(generate_start);

    // Each completion to its (prompt, sample) slot; every slot filled once.
    std::vector<std::vector<SampleToGrade>> slots(last - first, std::vector<SampleToGrade>(k));
    size_t filled = 0;
    for (const rollout::Completion& c : completions) {
      const int64_t p = c.prompt_index - static_cast<int64_t>(first);
      if (p < 0 || p >= static_cast<int64_t>(last - first) || c.sample_index < 0 ||
          c.sample_index >= options.k || slots[p][c.sample_index].example != nullptr) {
        return absl::InternalError(absl::StrCat("distill: generation returned an unexpected ",
                                                "sample (prompt ", c.prompt_index, ", sample ",
                                                c.sample_index, ")"));
      }
      slots[p][c.sample_index] = {&examples[first + p], chat.response_prefix() + c.text,
                                  static_cast<int64_t>(c.token_ids.size())};
      ++filled;
    }
    if (filled != (last - first) * k) {
      return absl::InternalError("distill: generation returned an incomplete set of samples");
    }
    std::vector<SampleToGrade> samples;
    for (const auto& prompt : slots) samples.insert(samples.end(), prompt.begin(), prompt.end());
    const auto grade_start = Clock::now();
    ASSIGN_OR_RETURN(std::vector<SampleGrade> grades, grade_samples(grading, samples));
    stats.grade_seconds += seconds_since(grade_start);
    for (size_t p = 0; p < slots.size(); ++p) {
      std::vector<std::string> responses;
      for (const SampleToGrade& sample : slots[p]) responses.push_back(sample.response);
      const std::vector<SampleGrade> mine(grades.begin() + p * k, grades.begin() + (p + 1) * k);
      for (Example& e : select_accepted(examples[first + p], responses, mine, options, stats)) {
        kept.push_back(std::move(e));
      }
    }
    if (progress) progress(stats);
  }
  return kept;
}

void split_held_out(std::vector<Example> accepted, int prompts, std::vector<Example>& train,
                    std::vector<Example>& held_out) {
  std::vector<std::string> order;  // distinct prompts, in order
  std::set<std::string> seen;
  for (const Example& e : accepted) {
    if (seen.insert(e.prompt).second) order.push_back(e.prompt);
  }
  const size_t n = std::min(static_cast<size_t>(std::max(prompts, 0)), order.size() / 10);
  const std::set<std::string> held(order.end() - static_cast<std::ptrdiff_t>(n), order.end());
  for (Example& e : accepted) {
    (held.count(e.prompt) > 0 ? held_out : train).push_back(std::move(e));
  }
}

}  // namespace forge::rl
