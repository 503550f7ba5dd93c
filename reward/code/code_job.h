// The code rule's two translations: a graded item into a harness job (reward/code/harness.py),
// and the harness's verdict into a reward. Pure functions, no sandbox.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "reward/reward_rule.h"

namespace forge::reward::code {

struct CodeJob {
  nlohmann::json job;  // {"kind", "program", and the kind's fields}; limits are added by the pool
  int runs = 1;        // program runs the job needs (one per stdio case)
};

// The program in a completion: the text after the last </think> (inside <answer>...</answer> when
// present); of that, the last ``` fenced block tagged python/py/python3 or untagged (else the last
// fenced block of any tag; an unclosed last fence runs to the end); with no fence, the whole text.
std::string extract_program(const std::string& completion);

// Validates `tests` ({"kind":"humaneval"|"asserts"|"stdio",...}); InvalidArgument naming the
// field (e.g. "tests.cases[2].output: must be a string").
absl::StatusOr<CodeJob> make_code_job(const std::string& completion, const nlohmann::json& tests);

// Reward 1 iff the harness says every test ran and passed. The detail starts with
// "<passed>/<total> tests passed (<fraction>)". Malformed tests -> InvalidArgument; sandbox
// failures -> Unavailable/Internal; a timeout caused by the caller's deadline -> DeadlineExceeded.
absl::StatusOr<RuleResult> code_rule_result(const nlohmann::json& harness_result,
                                            bool deadline_limited);

}  // namespace forge::reward::code
