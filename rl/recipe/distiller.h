// Rejection sampling, the data half of `forge distill` (DeepSeek-R1 §2.3.3): k samples per prompt
// from a teacher, graded (sample_grader.h), and only the responses the reward rules accept --
// correct by the example's rule AND well-formed by the format rule -- become SFT examples. Optionally identical accepted responses of a prompt are kept once (`dedup`) and at most
// `max_per_prompt` are kept per prompt (the first ones by sample index).
//
// An accepted example is the prompt's example with `completion` = the teacher's whole response
// (the template's response prefix + the generated text: it starts with "<think>", as dataset.h
// expects), id "<id>#<sample>", meta "teacher" (the programmatic teacher's statistics, which
// described the old completion) removed and meta "distill" = {"sample": i} added.
//
// Generation goes through a GenerationBackend: in `forge distill` a rollout::Pool over
// rollout-worker children serving the teacher checkpoint; tests may pass an in-process engine.
// Samples are joined to their prompts by (prompt_index, sample_index).
// Thread-safety: functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "policy/tokenizer.h"
#include "reward/grading_backend.h"
#include "rl/data/chat_template.h"
#include "rl/data/dataset.h"
#include "rl/recipe/sample_grader.h"
#include "rollout/generation_backend.h"

namespace forge::rl {

struct DistillOptions {
  int k = 8;
  double temperature = 0.6;
  double top_p = 0.95;
  int max_new_tokens = 128;
  int max_per_prompt = 0;  // 0 = every accepted response
  bool dedup = true;
  int prompts_per_request = 64;  // prompts per generate call
  uint64_t seed = 1;
};

struct DistillStats {
  int64_t prompts = 0;
  int64_t samples = 0;
  int64_t correct = 0;
  int64_t well_formed = 0;
  int64_t accepted_samples = 0;  // correct and well-formed
  int64_t duplicates = 0;        // accepted but identical to an earlier one of the same prompt
  int64_t over_cap = 0;          // accepted but past max_per_prompt
  int64_t kept = 0;              // examples written
  int64_t prompts_with_kept = 0;
  double generate_seconds = 0;
  double grade_seconds = 0;

  nlohmann::ordered_json to_json() const;
};

// The examples to keep among one prompt's samples: `responses[i]` (the whole response: prefix +
// generated text) was graded `grades[i]`. Adds to `stats` (samples, correct, well_formed, ...).
std::vector<Example> select_accepted(const Example& example,
                                     const std::vector<std::string>& responses,
                                     const std::vector<SampleGrade>& grades,
                                     const DistillOptions& options, DistillStats& stats);

// Samples every example k times through `generation` in requests of prompts_per_request prompts,
// grades, selects. `stop` (optional) is checked between requests: Cancelled when it is true.
// `progress` (optional) is called after each request with the stats so far.
absl::StatusOr<std::vector<Example>> rejection_sample(
    rollout::GenerationBackend& generation, const policy::Tokenizer& tokenizer,
    const ChatTemplate& chat, const reward::GradingBackend& grading,
    const std::vector<Example>& examples,
    const DistillOptions& options, DistillStats& stats, const std::function<bool()>& stop = nullptr,
    const std::function<void(const DistillStats&)>& progress = nullptr);

// Splits accepted examples (in prompt order, as rejection_sample returns them) by prompt: the
// examples of the last `prompts` distinct prompts -- at most a tenth of the distinct prompts --
// go to `held_out`, the rest to `train`, so no held-out prompt is trained on.
void split_held_out(std::vector<Example> accepted, int prompts, std::vector<Example>& train,
                    std::vector<Example>& held_out);

}  // namespace forge::rl
