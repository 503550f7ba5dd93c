#include "rl/trainer/collect_stage.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/splitmix64.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"
#include "rl/trainer/reward_stats.h"

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
  const Sample* first = nullptr;
  for (const Sample& s : samples) {
    if (!s.grade.error.empty()) continue;
    if (first == nullptr) first = &s;
    if (s.grade.reward != first->grade.reward) return false;
  }
  return true;
}

bool PromptGroup::all_accurate() const {
  bool any = false;
  for (const Sample& s : samples) {
    if (!s.grade.error.empty()) continue;
    if (!is_accurate(s.grade)) return false;
    any = true;
  }
  return any;
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
  if (config.rollout.max_staleness > 0) s.partial = r.partial_rollouts;
  s.return_routing = r.return_routing || config.trainer.routing_replay;
  s.batch_size = config.trainer.batch_size;
  s.dynamic_sampling = config.trainer.dynamic_sampling;
  s.max_gen_batches = config.trainer.max_gen_batches;
  s.retire_solved = config.trainer.retire_solved;
  s.max_error_fraction = config.reward.max_error_fraction;
  return s;
}

Collector::Collector(CollectSettings settings, PromptSource& prompts,
                     const policy::Tokenizer& tokenizer, rollout::GenerationBackend& generation,
                     const reward::GradingBackend& grading, Collective& collective)
    : settings_(std::move(settings)),
      prompts_(prompts),
      tokenizer_(tokenizer),
      generation_(generation),
      grading_(grading),
      collective_(collective) {}

absl::StatusOr<CollectedBatch> Collector::collect(int64_t step,
                                                  std::optional<CollectRound> first_round) {
  CollectedBatch batch;
  const int ranks = collective_.world_size();
  for (int round = 0; round < settings_.max_gen_batches; ++round) {
    const int64_t want = settings_.dynamic_sampling ? settings_.batch_size - batch.kept_total
                                                    : settings_.batch_size;
    if (want <= 0) break;
    const size_t first = batch.groups.size();
    CollectRound made;
    if (round == 0 && first_round.has_value()) {
      made = *std::move(first_round);
    } else {
      made = draw(step, round, want);
      RETURN_IF_ERROR(generate(made));
    }
    const bool ahead = made.wait_seconds >= 0;  // graded ahead too: nothing to wait for
    batch.rollout_seconds += ahead ? made.wait_seconds : made.rollout_seconds;
    batch.reward_seconds += ahead ? 0.0 : made.reward_seconds;
    batch.generation_seconds += made.rollout_seconds;
    batch.generated_tokens += made.generated_tokens;
    for (PromptGroup& g : made.groups) batch.groups.push_back(std::move(g));
    std::vector<size_t> kept;
    for (size_t g = first; g < batch.groups.size(); ++g) {
      if (settings_.dynamic_sampling && batch.groups[g].rewards_all_equal()) {
        ++batch.dropped_groups;
        continue;
      }
      kept.push_back(g);
    }
    // The round's kept groups of every rank, in prompt order (rank 0's first): this rank's start
    // at the kept counts of the ranks before it. With retire_solved, one more entry per prompt of
    // the round says whether it was solved, so that every rank retires the same prompts.
    const size_t solved_at = static_cast<size_t>(ranks);
    std::vector<double> counts(
        solved_at + (settings_.retire_solved ? static_cast<size_t>(made.want) : 0), 0.0);
    counts[static_cast<size_t>(collective_.rank())] = static_cast<double>(kept.size());
    if (settings_.retire_solved) {
      for (size_t g = first; g < batch.groups.size(); ++g) {
        if (!batch.groups[g].all_accurate()) continue;
        counts[solved_at + static_cast<size_t>(made.begin) + (g - first)] = 1.0;
      }
    }
    ASSIGN_OR_RETURN(counts, sum_over_ranks(collective_, counts));
    for (size_t j = solved_at; j < counts.size(); ++j) {
      // Once every prompt is retired they are drawn again (prompt_source.h): count each once.
      if (counts[j] > 0 && prompts_.retire(made.examples[j - solved_at])) ++batch.retired_prompts;
    }
    counts.resize(solved_at);
    int64_t index = batch.kept_total;
    for (int r = 0; r < collective_.rank(); ++r) index += static_cast<int64_t>(counts[r]);
    for (size_t g : kept) {
      if (index < settings_.batch_size) {
        batch.kept.push_back(g);
        batch.kept_index.push_back(index);
      }
      ++index;
    }
    for (double c : counts) batch.kept_total += static_cast<int64_t>(c);
    if (!settings_.dynamic_sampling) break;
  }
  batch.kept_total = std::min<int64_t>(batch.kept_total, settings_.batch_size);
  if (settings_.retire_solved) batch.retired_total = prompts_.retired();
  RETURN_IF_ERROR(check_grading_errors(batch));
  return batch;
}

absl::Status Collector::check_grading_errors(const CollectedBatch& batch) {
  double samples = 0, errors = 0;
  const reward::GradeOutcome* first = nullptr;
  for (const PromptGroup& g : batch.groups) {
    for (const Sample& s : g.samples) {
      samples += 1;
      if (s.grade.error.empty()) continue;
      errors += 1;
      if (first == nullptr) first = &s.grade;
    }
  }
  ASSIGN_OR_RETURN(std::vector<double> sums, sum_over_ranks(collective_, {samples, errors}));
  if (sums[1] <= settings_.max_error_fraction * sums[0]) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "reward: ", sums[1], " of ", sums[0],
      " samples of this step could not be graded (more than reward.max_error_fraction = ",
      settings_.max_error_fraction, "); ",
      first != nullptr ? absl::StrCat("first: ", first->error_code, ": ", first->error)
                       : std::string("the failures are on another rank")));
}

CollectRound Collector::draw(int64_t step, int round, int64_t want) {
  CollectRound out;
  out.step = step;
  out.round = round;
  out.want = want;
  rollout::GenerationRequest& request = out.request;
  request.sampling = settings_.sampling;
  request.partial = settings_.partial;
  request.return_routing = settings_.return_routing;
  // Independent, reproducible seeds for (run seed, step, round).
  request.sampling.seed = splitmix64_nth(
      splitmix64_nth(settings_.sampling.seed, static_cast<uint64_t>(step) + 1),
      static_cast<uint64_t>(round) + 1);
  // Every rank draws the round's prompts (so the data position moves alike); this rank keeps its
  // contiguous share, numbered by its place in the whole round.
  std::vector<SourcedPrompt> drawn = prompts_.next_batch(want);
  for (const SourcedPrompt& p : drawn) out.examples.push_back(p.dataset_index);
  const int64_t ranks = collective_.world_size(), rank = collective_.rank();
  const int64_t begin = want * rank / ranks, end = want * (rank + 1) / ranks;
  out.begin = begin;
  request.first_prompt_index = begin;
  for (int64_t i = begin; i < end; ++i) {
    SourcedPrompt& p = drawn[static_cast<size_t>(i)];
    PromptGroup g;
    g.prompt_ids = tokenizer_.encode_prompt(p.text);
    g.prompt = std::move(p);
    g.samples.resize(static_cast<size_t>(settings_.sampling.n));
    request.prompts.push_back(g.prompt_ids);
    out.groups.push_back(std::move(g));
  }
  return out;
}

absl::Status Collector::generate(CollectRound& round) const {
  std::vector<PromptGroup>& groups = round.groups;
  if (groups.empty()) return absl::OkStatus();  // more ranks than prompts this round
  const auto rollout_start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<rollout::Completion> completions,
                   generation_.generate(round.request));
  round.rollout_seconds += seconds_since(rollout_start);
  // Completions are numbered from request.first_prompt_index.
  for (rollout::Completion& c : completions) c.prompt_index -= static_cast<int32_t>(round.begin);
  RETURN_IF_ERROR(place_completions(std::move(completions), groups, settings_.sampling.n));

  std::vector<reward::GradeItem> items;
  std::vector<Sample*> graded;  // graded[k] is what items[k] grades
  for (size_t p = 0; p < groups.size(); ++p) {
    const Example& example = groups[p].prompt.example;
    for (size_t s = 0; s < groups[p].samples.size(); ++s) {
      Sample& sample = groups[p].samples[s];
      reward::GradeItem item;
      item.id = absl::StrCat(round.step, "-", round.round, "-",
                             round.begin + static_cast<int64_t>(p), "-", s);
      item.completion = sample.response;
      item.answer = example.answer;
      item.tests = example.tests;
      item.completion_tokens = static_cast<int>(sample.completion.token_ids.size());
      round.generated_tokens += static_cast<int64_t>(sample.completion.token_ids.size());
      items.push_back(std::move(item));
      graded.push_back(&sample);
    }
  }
  const auto reward_start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<reward::GradeOutcome> outcomes,
                   reward::grade_joined(grading_, items));
  round.reward_seconds += seconds_since(reward_start);
  for (size_t k = 0; k < outcomes.size(); ++k) graded[k]->grade = std::move(outcomes[k]);
  return absl::OkStatus();
}

}  // namespace forge::rl
