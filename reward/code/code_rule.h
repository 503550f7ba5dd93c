// The `code` reward rule: runs the Python program in a completion against the item's tests inside a
// bubblewrap sandbox and returns 1 when every test ran and passed, else 0.
//
// Tests (GradeItem::tests), as in DESIGN.md:
//   {"kind":"humaneval","test":"def check(candidate): ...","entry_point":"f"}
//       the program is the completion (prompt + completion as given); `check(f)` is called.
//   {"kind":"asserts","asserts":["assert f(1) == 2", ...], "setup"?: "import math"}   (MBPP)
//   {"kind":"stdio","cases":[{"input":"1 2\n","output":"3\n"}, ...]}
//       the program runs once per case as __main__; stdout must equal `output` after whitespace
//       normalisation (per line: runs of blanks collapsed, ends trimmed; trailing empty lines
//       dropped).
// The program is taken from the completion by code::extract_program (reward/code/code_job.h): the
// last ```python block after </think> when there is one, else the whole completion. The detail
// reads like "3/5 tests passed (0.60); test 4: AssertionError": the fraction passed is always
// there.
//
// Malformed tests are InvalidArgument naming the field. A program that fails, crashes, times out or
// misbehaves is an OK result with reward 0. Running out of the caller's deadline is
// DeadlineExceeded. Sandbox infrastructure failures (bwrap missing, user namespaces disabled) are
// Unavailable.
//
// Thread-safe: grade() may be called from many threads; programs run on a shared pool of
// pre-started sandbox workers (reward/code/worker_pool.h).
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "reward/code/sandbox_config.h"
#include "reward/reward_rule.h"

namespace forge::reward {

struct CodeRuleOptions {
  code::SandboxConfig sandbox;
  int workers = 0;            // pre-started sandbox workers; 0 = one per hardware thread (max 16)
  bool reuse_workers = true;  // false: a fresh sandbox per program (slower; for comparison)
};

// Reads options from a JSON object with the keys workers, reuse_workers, wall_seconds,
// cpu_seconds, memory_mb, max_processes, max_file_mb, tmp_mb, max_open_files, max_output_kb,
// bwrap, python, sandbox_uid, sandbox_gid, extra_ro_binds (all optional). Unknown keys and wrong
// types are InvalidArgument naming the key.
absl::StatusOr<CodeRuleOptions> code_rule_options_from_json(const nlohmann::json& j);

// Validates the options and starts the worker pool (the workers start in the background).
absl::StatusOr<std::unique_ptr<RewardRule>> make_code_rule(const CodeRuleOptions& options);

}  // namespace forge::reward
