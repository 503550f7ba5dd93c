#include "rl/trainer/collect_stage.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/splitmix64.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"

namespace forge::rl {
namespace {

using Clock = std::chrono::steady_clock;

// Puts each completion in its group's slot by (prompt_index, sample_index); every slot must be
// filled exactly once.
absl::Status place_completions(std::vector<rollout::Completion> completions,
                               std::vector<PromptGroup>& groups, int n) {
  std::vector<std::vector<bool>> placed(groups.size(), std::vector<bool>(static_cast<size_t>(n)));
  for (rollout::Completion& c : completions) {
    if (c.prompt_index < 0 || c.prompt_index >= static_cast<int32_t>(groups.size()) ||
        c.sample_index < 0 || c.sample_index >= n) {
      return absl::InternalError(absl::StrCat(
          "generation returned completion (prompt ", c.prompt_index, ", sample ", c.sample_index,
          ") outside the request's ", groups.size(), " prompts x ", n, " samples"));
    }
    if (placed[c.prompt_index][c.sample_index]) {
      return absl::InternalError(absl::StrCat("generation returned completion (prompt ",
                                              c.prompt_index, ", sample ", c.sample_index,
                                              ") twice"));
    }
    placed[c.prompt_index][c.sample_index] = true;
    Sample& slot = groups[c.prompt_index].samples[c.sample_index];
    slot.response = groups[c.prompt_index].prompt.response_prefix + c.text;
    slot.completion = std::move(c);
  }
  for (size_t p = 0; p < groups.size(); ++p) {
    for (size_t s = 0; s < placed[p].size(); ++s) {
      if (!placed[p][s]) {
        return absl::InternalError(absl::StrCat("generation returned no completion for (prompt ",
                                                p, ", sample ", s, ")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool PromptGroup::rewards_all_equal() const {
  for (const Sample& s : samples) {
    if (s.grade.reward != samples.front().grade.reward) return false;
  }
  return true;
}

CollectSettings CollectSettings::from_config(const RunConfig& config) {
  CollectSettings s;
  const RolloutSection& r = config.rollout;
  s.sampling.temperature = r.temperature;
  s.sampling.top_p = r.top_p;
  s.sampling.top_k = r.top_k;
  s.sampling.n = r.n;
  s.sampling.max_new_tokens = r.max_new_tokens;
  s.sampling.stop = r.stop;
  s.sampling.seed = static_cast<uint64_t>(config.run.seed);
  s.batch_size = config.trainer.batch_size;
  s.dynamic_sampling = config.trainer.dynamic_sampling;
  s.max_gen_batches = config.trainer.max_gen_batches;
  return s;
}

Collector::Collector(CollectSettings settings, PromptSource& prompts,
                     const policy::Tokenizer& tokenizer, rollout::GenerationBackend& generation,
                     const reward::GradingBackend& grading)
    : settings_(std::move(settings)),
      prompts_(prompts),
      tokenizer_(tokenizer),
      generation_(generation),
      grading_(grading) {}

absl::StatusOr<CollectedBatch> Collector::collect(int64_t step) {
  CollectedBatch batch;
  for (int round = 0; round < settings_.max_gen_batches; ++round) {
    const int64_t want = settings_.dynamic_sampling
                             ? settings_.batch_size - static_cast<int64_t>(batch.kept.size())
                             : settings_.batch_size;
    if (want <= 0) break;
    const size_t first = batch.groups.size();
    RETURN_IF_ERROR(collect_round(step, round, want, batch));
    for (size_t g = first; g < batch.groups.size(); ++g) {
      if (settings_.dynamic_sampling && batch.groups[g].rewards_all_equal()) {
        ++batch.dropped_groups;
        continue;
      }
      batch.kept.push_back(g);
    }
    if (!settings_.dynamic_sampling) break;
  }
  if (static_cast<int64_t>(batch.kept.size()) > settings_.batch_size) {
    batch.kept.resize(static_cast<size_t>(settings_.batch_size));
  }
  return batch;
}

absl::Status Collector::collect_round(int64_t step, int round, int64_t want,
                                      CollectedBatch& batch) {
  const int n = settings_.sampling.n;
  rollout::GenerationRequest request;
  request.sampling = settings_.sampling;
  // Independent, reproducible seeds for (run seed, step, round).
  request.sampling.seed = splitmix64_nth(
      splitmix64_nth(settings_.sampling.seed, static_cast<uint64_t>(step) + 1),
      static_cast<uint64_t>(round) + 1);
  std::vector<PromptGroup> groups;
  for (SourcedPrompt& p : prompts_.next_batch(want)) {
    PromptGroup g;
    g.prompt_ids = tokenizer_.encode_prompt(p.text);
    g.prompt = std::move(p);
    g.samples.resize(static_cast<size_t>(n));
    request.prompts.push_back(g.prompt_ids);
    groups.push_back(std::move(g));
  }

  const auto rollout_start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<rollout::Completion> completions, generation_.generate(request));
  batch.rollout_seconds += seconds_since(rollout_start);
  RETURN_IF_ERROR(place_completions(std::move(completions), groups, n));

  std::vector<reward::GradeItem> items;
  std::vector<Sample*> graded;  // graded[k] is what items[k] grades
  for (size_t p = 0; p < groups.size(); ++p) {
    const Example& example = groups[p].prompt.example;
    for (size_t s = 0; s < groups[p].samples.size(); ++s) {
      Sample& sample = groups[p].samples[s];
      reward::GradeItem item;
      item.id = absl::StrCat(step, "-", round, "-", p, "-", s);
      item.completion = sample.response;
      item.answer = example.answer;
      item.tests = example.tests;
      item.completion_tokens = static_cast<int>(sample.completion.token_ids.size());
      batch.generated_tokens += static_cast<int64_t>(sample.completion.token_ids.size());
      items.push_back(std::move(item));
      graded.push_back(&sample);
    }
  }
  const auto reward_start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<reward::GradeOutcome> outcomes,
                   reward::grade_joined(grading_, items));
  batch.reward_seconds += seconds_since(reward_start);
  for (size_t k = 0; k < outcomes.size(); ++k) graded[k]->grade = std::move(outcomes[k]);
  for (PromptGroup& g : groups) batch.groups.push_back(std::move(g));
  return absl::OkStatus();
}

}  // namespace forge::rl
