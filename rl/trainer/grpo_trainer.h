// The R1-Zero loop. Each step runs five stages, each a file with one job and a plain struct
// between them (step_batch.h):
//   collect (collect_stage.h)  B prompts -> rollout.n samples each -> grades -> groups
//   score   (score_stage.h)    advantages over each group's rewards, rows to train on
//   update  (update_stage.h)   PPO epochs of the GRPO loss over mini/micro-batches with AdamW
//   publish (publish_stage.h)  the new weights to the generator: policy version = step
//   record  (record_stage.h)   metrics, samples, progress line, checkpoints
// Generation and grading go through their interfaces (rollout::GenerationBackend,
// reward::GradingBackend), so the same loop runs with rollout workers and a reward server on other
// machines or entirely in this process. A resumed trainer reproduces a straight run's steps on the
// CPU. With a Collective of several ranks (rl/dist/) every rank runs this loop on its share of
// each step's prompts and they apply one update; rank 0 records. Between steps it serves
// TrainerControl's requests (a checkpoint now, pause until resumed).
// Asynchronous GRPO (rollout.max_staleness = k > 0): after each publish the RolloutPrefetch
// (rollout_prefetch.h) starts generating the steps that version admits, so steps t+1 .. t+k
// generate while step t trains; collect takes a step's first round from it. Checkpoints name the
// rounds in flight, and restore() draws them again.
// Not thread-safe: one thread runs it; stop_requested and the control may be flipped from another.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/logger.h"
#include "policy/model.h"
#include "policy/tokenizer.h"
#include "reward/grading_backend.h"
#include "rl/checkpoint/checkpointer.h"
#include "rl/config/run_config.h"
#include "rl/data/prompt_source.h"
#include "rl/dist/collective.h"
#include "rl/metrics/metrics_log.h"
#include "rl/service/trainer_control.h"
#include "rl/service/trainer_status_board.h"
#include "rl/trainer/score_stage.h"
#include "rl/trainer/update_stage.h"
#include "rollout/generation_backend.h"

namespace forge::rl {

class TrainableModel;
class Collector;
class RolloutPrefetch;
class StepRecorder;

struct GrpoTrainerDeps {
  const RunConfig* config = nullptr;
  policy::Model policy{nullptr};
  policy::Model reference{nullptr};  // the frozen initial policy; null when trainer.kl_coef == 0
  const policy::Tokenizer* tokenizer = nullptr;
  PromptSource* prompts = nullptr;
  rollout::GenerationBackend* generation = nullptr;
  const reward::GradingBackend* grading = nullptr;
  MetricsLog* metrics = nullptr;                 // rank 0's; null on the other ranks
  Collective* collective = nullptr;              // the job's ranks; optional (one rank)
  TrainerStatusBoard* board = nullptr;           // optional
  Logger* logger = nullptr;                      // optional: progress lines and warnings
  std::function<bool()> stop_requested;          // checked between steps; optional
  std::function<absl::Status()> children_health; // checked between steps; optional
  TrainerControl* control = nullptr;             // optional: checkpoint / pause requests
};

class GrpoTrainer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpoTrainer>> create(GrpoTrainerDeps deps);
  ~GrpoTrainer();

  // Loads a checkpoint folder (model, optimizer, data position, step) to continue from it.
  absl::Status restore(const std::string& checkpoint_dir);

  // Pushes the current weights to the generator, then trains until trainer.total_steps or a stop
  // request, saving checkpoints every trainer.save_every steps and at the end.
  absl::Status run();

  int64_t step() const { return step_; }

  GrpoTrainer(const GrpoTrainer&) = delete;
  GrpoTrainer& operator=(const GrpoTrainer&) = delete;

 private:
  explicit GrpoTrainer(GrpoTrainerDeps deps);

  // One step through the five stages; step_ and the data position advance once its update is done.
  absl::Status run_step(int64_t step);
  absl::Status publish(int64_t version);
  // After a publish: lets the prefetch start the generation the new version admits.
  void admit_rollouts();
  // TrainerControl's requests between steps, agreed by every rank in one all-reduce: the
  // TrainerService runs on rank 0 alone, a stop may reach any rank, and a checkpoint is written
  // by all ranks together (ZeRO-1 gathers the optimizer's shards).
  struct ControlRequests {
    bool stop = false;             // some rank was asked to stop
    bool paused = false;           // some rank's rollouts are paused
    bool save = false;             // some rank was asked for a checkpoint
    bool save_taken_here = false;  // this rank's control took that request (and answers it)
  };
  absl::StatusOr<ControlRequests> agree_on_control();
  // Between steps: writes a checkpoint when one was asked for, and waits while rollouts are
  // paused, every rank meeting every 250 ms (so no collective waits past dist.timeout_s, however
  // long the pause). True when the run is to stop.
  absl::StatusOr<bool> serve_control();
  absl::Status save_for_control(bool taken_here);
  TrainingState state() const;
  void set_state(const char* state);  // the status board's state (and state_)
  bool stopping() const;  // this rank was asked to stop

  GrpoTrainerDeps deps_;
  SingleProcess single_;  // the collective when deps_.collective is null
  Collective& collective_;
  const ScoreSettings score_settings_;
  const UpdateSettings update_settings_;
  std::unique_ptr<TrainableModel> model_;
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<RolloutPrefetch> prefetch_;  // after collector_: destroyed (joined) first
  std::unique_ptr<StepRecorder> recorder_;
  int64_t step_ = 0;            // steps completed
  int64_t policy_version_ = 0;
  const char* state_ = "starting";  // the last set_state() (a string literal)
  DataPosition completed_position_;  // the data position after the last completed step
};

}  // namespace forge::rl
