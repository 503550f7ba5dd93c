// What a reward stack is built from: rule weights, per-rule options, time limits, concurrency and
// plugins. The run config's `reward:` section (rl/config/run_config.h) is this struct plus the
// address of an external server, so every key here is a YAML key under `reward:`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace forge::reward {

// reward.format: the R1 output format `<think>…</think><answer>…</answer>`.
struct FormatOptions {
  // RE2 syntax; must match the whole completion; `.` matches newlines.
  std::string pattern = R"(\s*<think>.*</think>\s*<answer>.*</answer>\s*)";
  // Each of these must occur exactly once (so a second <think> block fails even though the
  // pattern alone would match it).
  std::vector<std::string> unique_tags = {"<think>", "</think>", "<answer>", "</answer>"};
  // Prepended to the completion before checking: set it to "<think>" when the prompt template
  // already ends with the opening tag (R1-Zero's template does).
  std::string prefix;
};

// reward.length: DAPO's soft overlong punishment (Yu et al. 2025, eq. 13). With L = the
// completion's length in tokens:  0 when L <= max_len - cache_len; ((max_len - cache_len) - L) /
// cache_len inside the cache window; -1 past max_len. Rewards lie in [-1, 0].
struct LengthOptions {
  int max_len = 0;    // 0: not set (`forge` fills in rollout.max_new_tokens)
  int cache_len = 0;  // 0: max_len / 5 (DAPO's 4096 of 20480)
  // When an item carries no token count, L = (UTF-8 bytes of the completion) / bytes_per_token.
  // 1.0 is exact for the byte tokenizer (tokenizer.kind: byte).
  double bytes_per_token = 1.0;
};

// reward.math: the number rules of reward/math/math_grader.h (MathOptions).
struct MathRuleOptions {
  double rel_tolerance = 1e-9;  // values computed in floating point: rounding error only
  double abs_tolerance = 1e-9;
  int float_rounding = 6;  // decimal places at which a decimal answer is compared (Math-Verify's)
  bool percent_either_way = false;  // true: "50%" is right for gold 0.5 and for gold 50
};

struct RewardConfig {
  // The mix an item with rule "" is graded by: reward = sum of weight * rule reward over the rules
  // that apply to the item. Names are rule names (built-ins: accuracy, math, countdown, code,
  // format, length; or a plugin's name).
  std::map<std::string, double> weights = {{"math", 1.0}, {"format", 0.1}};
  double timeout_s = 10.0;    // per-item grading deadline, counted from when its grading starts
  // A training step in which more than this fraction of the graded items carry an error (no
  // verdict: reward/grade_error.h) stops the run, naming the cause; read by the trainer.
  double max_error_fraction = 0.1;
  int concurrency = 0;        // grading threads; 0 = all cores
  int queue_limit = 4096;     // items waiting beyond this are RESOURCE_EXHAUSTED
  std::vector<std::string> plugins;  // reward-rule shared libraries (.so), see reward/plugin_abi.h
  // reward.plugin_options.<rule name>: any YAML, handed to that plugin's create() as JSON text.
  nlohmann::json plugin_options = nlohmann::json::object();
  FormatOptions format;
  LengthOptions length;
  MathRuleOptions math;
  // reward.code: sandbox limits and pool size, read by code_rule_options_from_json
  // (reward/code/code_rule.h: workers, wall_seconds, cpu_seconds, memory_mb, ...).
  nlohmann::json code = nlohmann::json::object();

  // Range checks that need no other component; messages name the key ("reward.timeout_s: must
  // be > 0"). Rule names in `weights` are checked when the registry is built.
  absl::Status validate() const;
};

}  // namespace forge::reward
