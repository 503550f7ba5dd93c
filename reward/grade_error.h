// Why an item got no verdict: an infrastructure failure or an item that cannot be graded, never a
// wrong answer (a wrong answer is an OK result with reward 0). GradeOutcome carries the code and
// the message; `forge grade` writes them as "error": {"code", "message"}, RewardService returns
// them per item (GradeResult.error_code, GradeResult.error), and the trainer leaves errored
// samples out of its statistics and counts them by code. The codes are a contract: add, never
// rename.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace forge::reward {

// The item lacks, or misstates, what its rule grades against ("answer: ...", "tests.kind: ...").
inline constexpr char kErrorInvalidItem[] = "invalid_item";
// Grading overran the item's deadline or the batch's (a program's own time limit is a verdict).
inline constexpr char kErrorTimeout[] = "timeout";
// Not attempted: the caller gave up, the server was shutting down, or the queue was full.
inline constexpr char kErrorNotGraded[] = "not_graded";
// Code sandboxes cannot start (bwrap missing, user namespaces disabled, setup failed).
inline constexpr char kErrorSandboxUnavailable[] = "sandbox_unavailable";
// The sandbox worker running the item died (killed, crashed, spoke nonsense).
inline constexpr char kErrorSandboxCrashed[] = "sandbox_crashed";
// A plugin rule reported a failure.
inline constexpr char kErrorPluginFailed[] = "plugin_failed";
// A rule failed in any other way: it threw, returned an error, or a reward outside its range.
inline constexpr char kErrorRuleFailed[] = "rule_failed";

// `status` (not OK) tagged with one of the codes above; error_code_of() reads the tag back.
absl::Status with_error_code(absl::Status status, std::string_view code);

// The code for a failed grading: the tag with_error_code() set, else by status code
// (InvalidArgument -> invalid_item, DeadlineExceeded -> timeout, Cancelled/ResourceExhausted/
// Aborted -> not_graded, Unavailable -> sandbox_unavailable, anything else -> rule_failed).
std::string error_code_of(const absl::Status& status);

}  // namespace forge::reward
