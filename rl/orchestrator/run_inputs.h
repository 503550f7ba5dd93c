// What every stage does before it starts: the run folder with the resolved config in it, and the
// prompts `forge run` trains on. Thread-safety: functions.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "base/logger.h"
#include "rl/config/run_config.h"
#include "rl/data/dataset.h"

namespace forge::rl {

// Creates run.dir and writes the resolved config to run.dir/config.yaml (children read it, so they
// see exactly what the parent sees).
absl::Status prepare_run_dir(const RunConfig& config);

// data.train's examples; when data.train is "", data.generate's task: data.generate.n problems
// generated from run.seed (the same problems on every run, rank and resume), also written to
// run.dir/data/train.jsonl when `write` (rank 0). InvalidArgument naming both keys when neither
// is set.
absl::StatusOr<std::vector<Example>> training_examples(const RunConfig& config, Logger* logger,
                                                       bool write = true);

// Torch's intra-op threads for this process: run.threads, or when it is 0 every core shared among
// the ranks on this machine (as torchrun's one thread per rank does for many ranks). Returns it.
int set_rank_threads(const RunConfig& config, int local_world_size);

}  // namespace forge::rl
