// Joining a data-parallel job: a c10d::TCPStore that rank 0 hosts at MASTER_ADDR:MASTER_PORT (the
// others connect to it), then a c10d process group over it -- Gloo on the CPU, NCCL when the model
// is on CUDA (dist.backend: auto | gloo | nccl). At rendezvous the ranks compare their resolved
// configs and refuse to start on a mismatch, naming the first differing key.
// Thread-safety: join() once per process; the Collective it returns as collective.h says.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rl/dist/collective.h"
#include "rl/dist/rank_env.h"

namespace forge::rl {

struct JoinOptions {
  std::string backend = "auto";          // dist.backend
  std::string device = "cpu";            // run.device: auto picks nccl on cuda
  std::chrono::seconds timeout{300};     // dist.timeout_s: rendezvous and every collective
  std::string resolved_config;           // the YAML every rank must agree on
};

// DeadlineExceeded naming MASTER_ADDR:MASTER_PORT when the store cannot be reached in time;
// InvalidArgument naming the first differing config key; Unimplemented for nccl without NCCL.
absl::StatusOr<std::unique_ptr<Collective>> join_process_group(const RankInfo& rank,
                                                               const JoinOptions& options);

}  // namespace forge::rl
