// Which rank of a data-parallel job this process is, read from the launcher's environment:
//   torchrun / Kubeflow PyTorchJob  RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
//                                   MASTER_PORT
//   Slurm (a task of an srun step)  SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
//                                   SLURM_NTASKS_PER_NODE, the first host of SLURM_JOB_NODELIST
//                                   as master unless MASTER_ADDR is set, MASTER_PORT (default 29500)
//   neither                         a single rank (world size 1)
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace forge::rl {

struct RankInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "single";  // "single" | "torchrun" | "slurm"

  bool distributed() const { return world_size > 1; }
};

// `getenv` looks a variable up (nullptr when unset): ::getenv in `forge`, a map in tests. Errors
// name the variable: "RANK: WORLD_SIZE is set but RANK is not", "RANK: 3 is outside [0, 2)".
absl::StatusOr<RankInfo> rank_from_environment(
    const std::function<const char*(const char*)>& getenv);

// The first host of a Slurm host list: "node[07-09,12],gpu1" -> "node07", "a,b" -> "a".
absl::StatusOr<std::string> first_slurm_host(const std::string& nodelist);

}  // namespace forge::rl
