// The rollout workers of a stage that generates through gRPC (`forge run`, `forge distill`): either
// the given addresses (each must answer its health check within 30 s) or `count` child processes
// `forge rollout-worker <worker_args...> --listen 127.0.0.1:<free port>` named rollout-worker-<i>,
// started by the Supervisor (which stops them on exit and on SIGINT/SIGTERM).
// Thread-safety: a function; the Supervisor is thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rl/orchestrator/supervisor.h"

namespace forge::rl {

// Returns the workers' addresses. `addresses_key` names the config key of `addresses` in errors
// (e.g. "rollout.addresses"); InvalidArgument when count is 0 and `addresses` is empty.
absl::StatusOr<std::vector<std::string>> start_rollout_workers(
    Supervisor& supervisor, int count, const std::vector<std::string>& addresses,
    const std::string& addresses_key, const std::vector<std::string>& worker_args,
    std::chrono::milliseconds health_timeout);

}  // namespace forge::rl
