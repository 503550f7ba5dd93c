// Dataset generation for the synthetic tasks (`forge data gen`): n distinct problems from a seed,
// optionally with the teacher's responses, optionally excluding the problems of other files (a
// held-out set is generated from another seed with the training file excluded, so the two are
// disjoint by construction and the exclusion is checked, not assumed).
//
// Each example: id "<task>-<seed>-<i>", prompt, answer, rule ("math" | "countdown"), meta "task";
// countdown adds meta "solution" (a reference expression). With the teacher: completion (the
// teacher's response, starting with "<think>") and meta "teacher": {"correct", "well_formed",
// "habit_class", "habit_applied", "slips", "format_broken"}.
//
// Determinism: the problems depend only on (task options, seed, exclusions); the teacher's
// responses only on (teacher options, seed, problem index), so turning the teacher on does not
// change the problems.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rl/data/dataset.h"
#include "rl/tasks/arithmetic.h"
#include "rl/tasks/countdown.h"
#include "rl/tasks/teacher.h"

namespace forge::rl::tasks {

struct GenerateOptions {
  std::string task = "arithmetic";  // "arithmetic" | "countdown"
  int64_t n = 1000;
  uint64_t seed = 1;
  ArithmeticOptions arithmetic;
  CountdownOptions countdown;
  bool teacher = false;             // add the teacher's responses as `completion`
  TeacherOptions teacher_options;
};

struct GenerateStats {
  int64_t examples = 0;
  int64_t duplicates_skipped = 0;  // drawn again within this set
  int64_t excluded_skipped = 0;    // in an excluded set
  // Teacher statistics (zero without the teacher).
  int64_t teacher_correct = 0;
  int64_t teacher_well_formed = 0;
  int64_t habit_class = 0;
  int64_t habit_applied = 0;
  int64_t with_slips = 0;
  int64_t response_chars_total = 0;
  int64_t response_chars_max = 0;
};

// The identity of a problem for deduplication: "countdown:<sorted numbers>=<target>" for rule
// "countdown" (from the gold answer), otherwise "<rule>:<prompt>".
std::string problem_key(const Example& e);

// The keys of every example in `path` (load errors name the file and line).
absl::StatusOr<std::set<std::string>> load_problem_keys(const std::string& path);

// InvalidArgument for bad options; FailedPrecondition when fewer than n distinct problems outside
// `exclude` can be found (the task's problem space at this difficulty is too small).
absl::StatusOr<std::vector<Example>> generate_examples(const GenerateOptions& options,
                                                       const std::set<std::string>& exclude,
                                                       GenerateStats* stats = nullptr);

}  // namespace forge::rl::tasks
