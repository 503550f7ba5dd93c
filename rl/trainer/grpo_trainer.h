// The R1-Zero loop: each step takes B prompts, samples G completions of each on the rollout pool,
// grades them on the reward server, turns rewards into advantages, runs PPO epochs of the GRPO loss
// over mini- and micro-batches with AdamW, and pushes the new weights to every worker (the new
// policy version). Metrics go to the MetricsLog (DESIGN.md's names), samples to samples.jsonl,
// checkpoints through the Checkpointer; a resumed trainer reproduces a straight run's steps on the
// CPU. Not thread-safe: one thread runs it; stop_requested may be flipped from another.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "policy/model.h"
#include "policy/tokenizer.h"
#include "reward/reward_client.h"
#include "rl/checkpoint/checkpointer.h"
#include "rl/config/run_config.h"
#include "rl/data/prompt_source.h"
#include "rl/metrics/metrics_log.h"
#include "rl/optim/adamw.h"
#include "rl/service/trainer_service.h"
#include "rollout/pool.h"

namespace forge::rl {

struct GrpoTrainerDeps {
  const RunConfig* config = nullptr;
  policy::Model policy{nullptr};
  policy::Model reference{nullptr};  // the frozen initial policy; null when trainer.kl_coef == 0
  const policy::Tokenizer* tokenizer = nullptr;
  PromptSource* prompts = nullptr;
  rollout::Pool* rollout = nullptr;
  const reward::RewardClient* reward = nullptr;
  MetricsLog* metrics = nullptr;
  TrainerStatusBoard* board = nullptr;           // optional
  std::function<bool()> stop_requested;          // checked between steps; optional
  std::function<absl::Status()> children_health; // checked between steps; optional
};

class GrpoTrainer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpoTrainer>> create(GrpoTrainerDeps deps);

  // Loads a checkpoint folder (model, optimizer, data position, step) to continue from it.
  absl::Status restore(const std::string& checkpoint_dir);

  // Pushes the current weights to the workers, then trains until trainer.total_steps or a stop
  // request, saving checkpoints every trainer.save_every steps and at the end.
  absl::Status run();

  int64_t step() const { return step_; }

  GrpoTrainer(const GrpoTrainer&) = delete;
  GrpoTrainer& operator=(const GrpoTrainer&) = delete;

 private:
  struct Group;
  struct StepResult;
  explicit GrpoTrainer(GrpoTrainerDeps deps);

  absl::StatusOr<std::vector<Group>> generate_and_grade(int64_t step, StepResult& result);
  absl::Status train_on(int64_t step, std::vector<Group>& groups, StepResult& result);
  absl::Status push_weights(int64_t version);
  absl::Status save_checkpoint();
  absl::Status write_samples(int64_t step, const std::vector<Group>& groups);

  GrpoTrainerDeps deps_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<Checkpointer> checkpointer_;
  int64_t step_ = 0;            // steps completed
  int64_t policy_version_ = 0;
  DataPosition completed_position_;  // the data position after the last completed step
};

}  // namespace forge::rl
