#include "rl/recipe/evaluator.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "rollout/engine.h"

namespace forge::rl {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Submits every request at once (they share the engine's batches) and waits for all of them.
// Result r holds request r's completions ordered by (prompt_index, sample_index).
absl::StatusOr<std::vector<std::vector<rollout::Completion>>> generate_together(
    rollout::Engine& engine, std::vector<rollout::GenerationRequest> requests) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<rollout::Completion>> results(requests.size());
  size_t done = 0;
  absl::Status failure;
  std::vector<std::shared_ptr<rollout::RequestHandle>> handles;
  for (size_t r = 0; r < requests.size(); ++r) {
    rollout::Engine::Callbacks callbacks;
    callbacks.on_completion = [&, r](rollout::Completion&& c) {
      std::lock_guard<std::mutex> lock(mu);
      results[r].push_back(std::move(c));
    };
    callbacks.on_done = [&](const absl::Status& st) {
      std::lock_guard<std::mutex> lock(mu);
      if (!st.ok() && failure.ok()) failure = st;
      ++done;
      cv.notify_all();
    };
    absl::StatusOr<std::shared_ptr<rollout::RequestHandle>> handle =
        engine.submit(std::move(requests[r]), std::move(callbacks));
    if (!handle.ok()) {
      for (auto& h : handles) h->cancel();
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return done == handles.size(); });
      return handle.status();
    }
    handles.push_back(*std::move(handle));
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == handles.size(); });
  if (!failure.ok()) return failure;
  for (auto& completions : results) {
    std::sort(completions.begin(), completions.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.prompt_index, a.sample_index) <
             std::make_pair(b.prompt_index, b.sample_index);
    });
  }
  return results;
}

}  // namespace

absl::StatusOr<EvalRun> evaluate(policy::Model model,
                                 std::shared_ptr<const policy::Tokenizer> tokenizer,
                                 const ChatTemplate& chat, const reward::Grader& grader,
                                 const std::vector<Example>& examples, const EvalOptions& options) {
  if (examples.empty()) return absl::InvalidArgumentError("eval: no examples");
  if (options.k <= 0) return absl::InvalidArgumentError("eval.k: must be > 0");
  for (const Example& e : examples) RETURN_IF_ERROR(check_gradable(grader, e));

  std::vector<std::vector<int32_t>> prompts;
  size_t longest = 0;
  for (const Example& e : examples) {
    std::vector<int32_t> ids = {tokenizer->bos_id()};
    for (int32_t id : tokenizer->encode(chat.render(e.prompt))) ids.push_back(id);
    longest = std::max(longest, ids.size());
    prompts.push_back(std::move(ids));
  }
  const int model_max = model->config().max_position_embeddings;
  const int64_t need = static_cast<int64_t>(longest) + options.max_new_tokens;
  if (need > model_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "eval.max_new_tokens: ", options.max_new_tokens, " new tokens after the longest prompt (",
        longest, " tokens) exceed the model's max_position_embeddings (", model_max, ")"));
  }
  const int64_t sequences = static_cast<int64_t>(examples.size()) * (1 + 2 * int64_t{options.k});
  rollout::EngineOptions engine_options;
  engine_options.max_batch_size = options.max_batch_size;
  engine_options.cache_bytes = options.cache_bytes;
  engine_options.max_seq_len = static_cast<int>(need);
  engine_options.max_queued = static_cast<int>(std::max<int64_t>(sequences, 1));
  engine_options.max_n = std::max(options.k, 1);
  engine_options.default_max_new_tokens = options.max_new_tokens;
  ASSIGN_OR_RETURN(std::unique_ptr<rollout::Engine> engine,
                   rollout::Engine::create(std::move(model), tokenizer, engine_options));

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
                   generate_together(*engine, std::move(requests)));
  run.generate_seconds = seconds_since(generate_start);
  engine.reset();

  std::vector<SampleToGrade> samples;
  for (const auto& completions : generated) {
    for (const rollout::Completion& c : completions) {
      if (c.prompt_index < 0 || c.prompt_index >= static_cast<int32_t>(examples.size())) {
        return absl::InternalError(absl::StrCat("engine returned prompt_index ", c.prompt_index));
      }
      samples.push_back(
          {&examples[c.prompt_index], c.text, static_cast<int64_t>(c.token_ids.size())});
      run.generated_tokens += static_cast<int64_t>(c.token_ids.size());
    }
  }
  const auto grade_start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<SampleGrade> grades, grade_samples(grader, chat, samples));
  run.grade_seconds = seconds_since(grade_start);

  run.prompts.resize(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) run.prompts[i].task = task_of(examples[i]);
  size_t next = 0;
  for (size_t r = 0; r < generated.size(); ++r) {
    for (const rollout::Completion& c : generated[r]) {
      PromptResult& p = run.prompts[c.prompt_index];
      SampleGrade& g = grades[next++];
      if (r == 0) {
        p.greedy = std::move(g);
      } else {
        (r == 1 ? p.low : p.high).push_back(std::move(g));
      }
    }
  }
  for (const PromptResult& p : run.prompts) {
    if (p.low.size() != static_cast<size_t>(options.k) ||
        p.high.size() != static_cast<size_t>(options.k)) {
      return absl::InternalError("eval: the engine returned an incomplete set of samples");
    }
  }
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
