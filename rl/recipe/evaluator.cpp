#include "rl/recipe/evaluator.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"
#include "rl/recipe/sample_grader.h"
#include "rollout/local_generation.h"

namespace forge::rl {
using Clock = std::chrono::steady_clock;

std::vector<std::vector<int32_t>> encode_prompts(const std::vector<Example>& examples,
                                                 const policy::Tokenizer& tokenizer,
                                                 const ChatTemplate& chat) {
  std::vector<std::vector<int32_t>> prompts;
  for (const Example& e : examples) {
    prompts.push_back(tokenizer.encode_prompt(chat.render(e.prompt)));
  }
  return prompts;
}

absl::StatusOr<rollout::EngineOptions> eval_engine_options(
    const std::vector<std::vector<int32_t>>& prompts, int max_positions,
    const EvalOptions& options) {
  size_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  const int64_t need = static_cast<int64_t>(longest) + options.max_new_tokens;
  if (need > max_positions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "eval.max_new_tokens: ", options.max_new_tokens, " new tokens after the longest prompt (",
        longest, " tokens) exceed the model's max_position_embeddings (", max_positions, ")"));
  }
  const int64_t sequences = static_cast<int64_t>(prompts.size()) * (1 + 2 * int64_t{options.k});
  rollout::EngineOptions o;
  o.max_batch_size = options.max_batch_size;
  o.cache_bytes = options.cache_bytes;
  o.max_seq_len = static_cast<int>(need);
  o.max_queued = static_cast<int>(std::max<int64_t>(sequences, 1));
  o.max_n = std::max(options.k, 1);
  o.default_max_new_tokens = options.max_new_tokens;
  return o;
}

absl::StatusOr<EvalRun> evaluate(rollout::GenerationBackend& generation,
                                 const reward::GradingBackend& grading, const ChatTemplate& chat,
                                 const std::vector<Example>& examples,
                                 const std::vector<std::vector<int32_t>>& prompts,
                                 const EvalOptions& options) {
  if (examples.empty()) return absl::InvalidArgumentError("eval: no examples");
  if (options.k <= 0) return absl::InvalidArgumentError("eval.k: must be > 0");
  for (const Example& e : examples) RETURN_IF_ERROR(check_gradable(grading, e));

  auto request = [&](double temperature, double top_p, int n, uint64_t seed) {
    rollout::GenerationRequest r;
    r.prompts = prompts;
    r.sampling.temperature = temperature;
    r.sampling.top_p = top_p;
    r.sampling.n = n;
    r.sampling.max_new_tokens = options.max_new_tokens;
    r.sampling.seed = seed;
    return r;
  };
  // Distinct seeds per request, so the low- and high-temperature draws are independent.
  std::vector<rollout::GenerationRequest> requests = {
      request(0.0, 1.0, 1, options.seed),
      request(options.temperature, options.top_p, options.k, options.seed + 1),
      request(options.high_temperature, 1.0, options.k, options.seed + 2)};

  EvalRun run;
  const auto generate_start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<std::vector<rollout::Completion>> generated,
                   generation.generate_all(std::move(requests)));
  run.generate_seconds = seconds_since(generate_start);

  // Every sample to its slot: request 0 -> greedy, 1 -> low[sample], 2 -> high[sample].
  run.prompts.resize(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    run.prompts[i].task = task_of(examples[i]);
    run.prompts[i].low.resize(static_cast<size_t>(options.k));
    run.prompts[i].high.resize(static_cast<size_t>(options.k));
  }
  std::vector<SampleToGrade> samples;
  std::vector<SampleGrade*> slots;  // slots[i] receives samples[i]'s grade
  std::set<std::tuple<size_t, int32_t, int32_t>> seen;
  for (size_t r = 0; r < generated.size(); ++r) {
    const int32_t n = r == 0 ? 1 : options.k;
    for (const rollout::Completion& c : generated[r]) {
      if (c.prompt_index < 0 || c.prompt_index >= static_cast<int32_t>(examples.size()) ||
          c.sample_index < 0 || c.sample_index >= n ||
          !seen.insert({r, c.prompt_index, c.sample_index}).second) {
        return absl::InternalError(absl::StrCat("eval: generation returned an unexpected sample (",
                                                "prompt ", c.prompt_index, ", sample ",
                                                c.sample_index, ") for request ", r));
      }
      PromptResult& p = run.prompts[c.prompt_index];
      slots.push_back(r == 0 ? &p.greedy : &(r == 1 ? p.low : p.high)[c.sample_index]);
      samples.push_back({&examples[c.prompt_index], chat.response_prefix() + c.text,
                         static_cast<int64_t>(c.token_ids.size())});
      run.generated_tokens += static_cast<int64_t>(c.token_ids.size());
    }
  }
  if (samples.size() != examples.size() * (1 + 2 * static_cast<size_t>(options.k))) {
    return absl::InternalError("eval: generation returned an incomplete set of samples");
  }
  const auto grade_start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<SampleGrade> grades, grade_samples(grading, samples));
  run.grade_seconds = seconds_since(grade_start);
  for (size_t i = 0; i < grades.size(); ++i) *slots[i] = std::move(grades[i]);

  run.report = eval_report(run.prompts);
  run.report["settings"] = {{"k", options.k},
                            {"max_new_tokens", options.max_new_tokens},
                            {"temperature", options.temperature},
                            {"top_p", options.top_p},
                            {"high_temperature", options.high_temperature},
                            {"seed", options.seed}};
  run.report["seconds"] = {{"generate", run.generate_seconds}, {"grade", run.grade_seconds}};
  run.report["generated_tokens"] = run.generated_tokens;
  return run;
}

absl::StatusOr<EvalRun> evaluate_in_process(policy::Model model,
                                            std::shared_ptr<const policy::Tokenizer> tokenizer,
                                            const ChatTemplate& chat,
                                            const reward::GradingBackend& grading,
                                            const std::vector<Example>& examples,
                                            const EvalOptions& options) {
  const std::vector<std::vector<int32_t>> prompts = encode_prompts(examples, *tokenizer, chat);
  ASSIGN_OR_RETURN(
      rollout::EngineOptions engine_options,
      eval_engine_options(prompts, model->config().max_position_embeddings, options));
  ASSIGN_OR_RETURN(std::unique_ptr<rollout::LocalGeneration> generation,
                   rollout::LocalGeneration::create(std::move(model), std::move(tokenizer),
                                                    engine_options));
  return evaluate(*generation, grading, chat, examples, prompts, options);
}

std::string eval_summary_line(const nlohmann::ordered_json& g) {
  const int k = g.value("k", 0);
  return absl::StrFormat(
      "greedy %.3f  pass1_t06 %.3f  pass1_t1 %.3f  pass@%d %.3f  maj@%d %.3f  format %.3f  "
      "len %.1f",
      g.value("greedy", 0.0), g.value("pass1_t06", 0.0), g.value("pass1_t1", 0.0), k,
      g.value("pass_at_k", 0.0), k, g.value("maj_at_k", 0.0), g.value("format_rate", 0.0),
      g.value("response_length", 0.0));
}

}  // namespace forge::rl
