// This process's place in a data-parallel job (`forge run`, `forge sft`): its rank from the
// launcher's environment (rank_env.h), the joined process group (process_group.h: rendezvous and
// the config check), and its log, run.dir/logs/rank-<r>.log (rank_logger.h). A process started
// without a launcher is the job's only rank: SingleProcess, and the caller's logger.
// Thread-safety: join_job once per process.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "base/logger.h"
#include "rl/config/run_config.h"
#include "rl/dist/collective.h"
#include "rl/dist/rank_env.h"

namespace forge::rl {

struct Job {
  RankInfo rank;
  std::unique_ptr<Collective> collective;
  std::unique_ptr<Logger> rank_log;  // null for a single process
  Logger* logger = nullptr;          // where this rank reports

  bool is_root() const { return rank.rank == 0; }
  // The folder of this rank's children's logs and sockets: run.dir/logs, or run.dir/logs/rank-<r>.
  std::string log_dir(const RunConfig& config) const;
};

// Errors name the environment variable or config key (InvalidArgument), or the rendezvous that
// did not complete (DeadlineExceeded).
absl::StatusOr<Job> join_job(const RunConfig& config, Logger* console);

}  // namespace forge::rl
