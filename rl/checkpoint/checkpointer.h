// Training checkpoints: run.dir/checkpoints/step-N/ holds the model (config.json + model.safetensors,
// loadable by `forge generate --checkpoint`), the optimizer state (optimizer.safetensors), the
// training state (state.json: step, policy version, data position, torch RNG, stage extras), and a
// manifest (manifest.json: every file's size and CRC-32). A checkpoint is written into
// step-N.tmp.<pid> and renamed, so step-N is complete or absent; loading verifies the manifest.
// The newest `keep_last` checkpoints are kept. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "base/logger.h"
#include "policy/model.h"
#include "rl/optim/adamw.h"

namespace forge::rl {

struct TrainingState {
  int64_t step = 0;             // steps completed
  int64_t policy_version = 0;
  nlohmann::json data = nlohmann::json::object();   // e.g. DataPosition::to_json()
  nlohmann::json extra = nlohmann::json::object();  // stage-specific (SFT's best held-out loss, ...)
};

class Checkpointer {
 public:
  Checkpointer(std::string dir, int keep_last);

  // Writes step-<state.step> (replacing one of the same step), then prunes old ones.
  absl::Status save(const policy::ModelImpl& model, const AdamW& optimizer,
                    const TrainingState& state);
  // The same with the optimizer state given as AdamW::state_tensors() names it (a ZeRO-1 job's
  // state gathered from its ranks).
  absl::Status save(const policy::ModelImpl& model,
                    const std::vector<std::pair<std::string, at::Tensor>>& optimizer_state,
                    const TrainingState& state);

  // The folder of the newest checkpoint that verifies, or nullopt when there is none. Folders that
  // fail verification are skipped and described in `skipped`.
  std::optional<std::string> newest_valid(std::vector<std::string>* skipped = nullptr) const;

  // Verifies `dir` against its manifest, loads the weights into `model`, the optimizer state into
  // `optimizer` (when given), restores torch's CPU RNG, and returns the training state.
  static absl::StatusOr<TrainingState> load(const std::string& dir, policy::ModelImpl& model,
                                            AdamW* optimizer);

  // The training state of `dir` (state.json) without loading anything else.
  static absl::StatusOr<TrainingState> read_state(const std::string& dir);

  // Every file in the manifest exists with its size and CRC-32; errors name the file.
  static absl::Status verify(const std::string& dir);

  const std::string& dir() const { return dir_; }

 private:
  std::vector<std::pair<int64_t, std::string>> list_steps() const;  // ascending by step
  std::string dir_;
  int keep_last_;
};

// Where `--resume` continues a run: the newest checkpoint of <run_dir>/checkpoints that verifies
// (each invalid one skipped with a warning; none: a warning, and the run starts from step 0).
struct ResumePoint {
  std::optional<std::string> checkpoint;
  int64_t step = -1;  // its step; -1 without a checkpoint (MetricsLog::open's "start empty")
};
absl::StatusOr<ResumePoint> find_resume_point(const std::string& run_dir, Logger* logger);

}  // namespace forge::rl
