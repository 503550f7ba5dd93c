// `forge run --nproc N` / `forge sft --nproc N`: N ranks of a data-parallel job on this machine,
// as `torchrun --standalone` starts them. Each rank is `<forge> <args...>` (the same command
// without --nproc) with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and
// MASTER_PORT (a free port) set, in its own process group, its output on the console, and told to
// die with the launcher. SIGINT/SIGTERM to the launcher are passed on to every rank (the first
// one: finish the step and save; a second: abandon it). When a rank fails -- exits non-zero or is
// killed -- the others are stopped (SIGTERM, then SIGKILL after 10 s) and the error names it.
// Thread-safety: a function; it owns SIGINT/SIGTERM/SIGCHLD while it runs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/logger.h"

namespace forge::rl {

// Returns the ranks' common exit code when they all ended the same way (0, or 130 when they were
// interrupted); an error naming the first rank that failed otherwise.
absl::StatusOr<int> launch_local_ranks(int nproc, const std::string& executable,
                                       const std::vector<std::string>& args, Logger* logger);

}  // namespace forge::rl
