#include "rl/dist/job.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rl/dist/process_group.h"
#include "rl/dist/rank_logger.h"

namespace forge::rl {

std::string Job::log_dir(const RunConfig& config) const {
  return rank.distributed() ? absl::StrCat(config.run.dir, "/logs/rank-", rank.rank)
                            : config.run.dir + "/logs";
}

absl::StatusOr<Job> join_job(const RunConfig& config, Logger* console) {
  Job job;
  ASSIGN_OR_RETURN(job.rank, rank_from_environment([](const char* name) { return std::getenv(name); }));
  job.logger = console;
  if (!job.rank.distributed()) {
    job.collective = std::make_unique<SingleProcess>();
    return job;
  }
  std::error_code ec;
  std::filesystem::create_directories(config.run.dir + "/logs", ec);
  job.rank_log = std::make_unique<RankLogger>(
      absl::StrCat(config.run.dir, "/logs/rank-", job.rank.rank, ".log"), job.rank.rank, console);
  job.logger = job.rank_log.get();
  log_info(job.logger, absl::StrCat("rank ", job.rank.rank, " of ", job.rank.world_size, " (",
                                    job.rank.launcher, "); rendezvous at ", job.rank.master_addr,
                                    ":", job.rank.master_port));
  JoinOptions options;
  options.backend = config.dist.backend;
  options.device = config.run.device;
  options.timeout = std::chrono::seconds(config.dist.timeout_s);
  options.resolved_config = config.to_yaml();
  ASSIGN_OR_RETURN(job.collective, join_process_group(job.rank, options));
  return job;
}

}  // namespace forge::rl
