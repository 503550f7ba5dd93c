// The rollout workers of a stage that generates through gRPC (`forge run`, `forge distill`): either
// the given addresses (each must answer its health check within 30 s) or `count` child processes
// `forge rollout-worker <worker_args...> --listen unix:<run.dir>/logs/rollout-worker-<i>.sock` (a
// Unix socket: no free port to find; weight updates run at 1-2 GB/s per worker over it or TCP
// loopback alike, bench/rollout_bench), started by the Supervisor (which stops them on exit and on
// SIGINT/SIGTERM).
// The children get server.metrics_address='' (they share the parent's config, not its port).
// Thread-safety: a function; the Supervisor is thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rl/orchestrator/supervisor.h"

namespace forge::rl {

struct RolloutWorkersSpec {
  int count = 0;                         // children to start when `addresses` is empty
  std::string count_key;                 // its config key, for errors ("rollout.workers")
  std::vector<std::string> addresses;    // use these workers instead
  std::string addresses_key;             // their config key ("rollout.addresses")
  std::vector<std::string> worker_args;  // after `rollout-worker`: "--config", FILE, overrides...
};

// Returns the workers' addresses; InvalidArgument naming both keys when there are none.
absl::StatusOr<std::vector<std::string>> start_rollout_workers(
    Supervisor& supervisor, const RolloutWorkersSpec& spec,
    std::chrono::milliseconds health_timeout);

}  // namespace forge::rl
