#include "rl/orchestrator/run_inputs.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "rl/policy_loader.h"
#include "rl/tasks/generate.h"

namespace forge::rl {

namespace fs = std::filesystem;

absl::Status prepare_run_dir(const RunConfig& config) {
  std::error_code ec;
  fs::create_directories(config.run.dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("run.dir: cannot create '", config.run.dir, "': ", ec.message()));
  }
  return write_file_atomic(config.run.dir + "/config.yaml", config.to_yaml());
}

absl::StatusOr<std::vector<Example>> training_examples(const RunConfig& config, Logger* logger,
                                                       bool write) {
  if (!config.data.train.empty()) return load_jsonl(config.data.train);
  const DataGenerateSection& g = config.data.generate;
  if (g.task.empty()) {
    return absl::InvalidArgumentError(
        "data.train: a training dataset is required (or data.generate.task: a built-in task to "
        "generate one)");
  }
  tasks::GenerateOptions options;
  options.task = g.task;
  options.n = g.n;
  options.seed = static_cast<uint64_t>(config.run.seed);
  options.arithmetic.digits = g.digits;
  options.arithmetic.ops = g.ops;
  absl::StatusOr<std::vector<Example>> examples = tasks::generate_examples(options, {});
  if (!examples.ok()) {
    return absl::Status(examples.status().code(),
                        absl::StrCat("data.generate: ", examples.status().message()));
  }
  const std::string path = config.run.dir + "/data/train.jsonl";
  if (write) {
    std::error_code ec;
    fs::create_directories(config.run.dir + "/data", ec);
    RETURN_IF_ERROR(write_jsonl(path, *examples));
  }
  log_info(logger, absl::StrCat("data.train is empty: generated ", examples->size(), " ", g.task,
                                " problems (data.generate, seed ", config.run.seed, ") -> ", path));
  return examples;
}

int set_rank_threads(const RunConfig& config, int local_world_size) {
  if (config.run.threads > 0 || local_world_size <= 1) return set_torch_threads(config.run.threads);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return set_torch_threads(std::max(1, cores / local_world_size));
}

}  // namespace forge::rl
