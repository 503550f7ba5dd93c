// The cold-start SFT stage (`forge sft`, and the student stage of `forge distill`): token-mean
// cross-entropy on completion tokens only (the prompt is masked; examples packed several to a row
// by sft.pack_tokens, each attending only to itself: see sft_batch.h), AdamW with
// linear warmup + cosine decay (config `sft`), global grad-norm clipping, and DeepSeek-V3's
// aux-loss-free routing-bias update after every optimizer step (on in SFT, frozen in RL:
// DESIGN.md).
//
// Data order: a PromptSource over the training examples (shuffled per epoch from run.seed), so a
// checkpoint records the data position. Every `sft.eval_every` steps (and after the last step) the
// held-out loss is computed on the first `sft.eval_examples` held-out examples; when it improves by
// more than `sft.min_delta` the model is saved as run.dir/model/ (config.json + model.safetensors,
// the best model: loadable as `model.checkpoint` and by `forge generate --checkpoint`); training
// stops after `sft.patience` evaluations without improvement, or at `sft.max_steps`. Without
// held-out data, run.dir/model/ is the last model.
//
// Metrics (one line per step in run.dir/metrics.jsonl): loss, lr, grad_norm, tokens_per_s,
// response_tokens, pad_fraction, moe/load_imbalance, time (seconds of training, summed over
// resumes), time/step, and eval_loss on evaluation steps. Checkpoints: rl::Checkpointer in
// run.dir/checkpoints (every sft.save_every steps and at the end), with the plateau state in
// TrainingState.extra; a resumed run reproduces a straight run's steps on the CPU.
//
// Data parallelism (rl/dist/): with a Collective of several ranks each trains its share of every
// batch and scores its share of the held-out set; the loss is normalised over every rank's tokens
// and the gradients summed, so N ranks take the steps one rank would. Rank 0 writes metrics,
// run.dir/model/ and the checkpoints; a stop request on any rank stops every rank after the step.
// Not thread-safe: one thread calls run(); stop_requested may flip from another thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/logger.h"
#include "policy/model.h"
#include "policy/tokenizer.h"
#include "rl/checkpoint/trainable_model.h"
#include "rl/config/run_config.h"
#include "rl/data/dataset.h"
#include "rl/data/prompt_source.h"
#include "rl/dist/collective.h"
#include "rl/metrics/metrics_log.h"
#include "rl/trainer/packed_batch.h"

namespace forge::rl {

struct SftDeps {
  const RunConfig* config = nullptr;  // sft.*, run.dir, run.seed, data.template, data.shuffle
  policy::Model model{nullptr};
  const policy::Tokenizer* tokenizer = nullptr;
  std::vector<Example> train;     // examples with a completion (others are an error)
  std::vector<Example> held_out;  // examples with a completion; may be empty (no plateau stop)
  MetricsLog* metrics = nullptr;         // rank 0's; null on the other ranks
  Collective* collective = nullptr;      // the job's ranks; optional (one rank)
  Logger* logger = nullptr;              // progress lines; optional
  std::function<bool()> stop_requested;  // checked between steps; optional
};

struct SftOutcome {
  int64_t steps = 0;                     // optimizer steps completed
  std::string stop_reason;               // "max_steps" | "plateau" | "interrupted"
  std::optional<double> best_eval_loss;  // none without held-out data
  int64_t best_step = 0;                 // step of run.dir/model/ (the last step when no eval)
  std::string model_dir;                 // run.dir/model
  int64_t train_examples = 0;            // examples trained on
  int64_t skipped_too_long = 0;          // examples longer than the limit, left out
};

class SftTrainer {
 public:
  // Tokenises every example (errors name the example id), leaves out those longer than
  // sft.max_seq_len (or the model's max_position_embeddings), builds the optimizer.
  static absl::StatusOr<std::unique_ptr<SftTrainer>> create(SftDeps deps);

  // Continues from a checkpoint folder written by this trainer.
  absl::Status restore(const std::string& checkpoint_dir);

  // Trains until a stop condition; saves the final checkpoint and run.dir/model/.
  absl::StatusOr<SftOutcome> run();

  // Token-mean cross-entropy of the held-out examples under the current weights (no gradient);
  // nullopt without held-out data.
  absl::StatusOr<std::optional<double>> held_out_loss();

  int64_t step() const { return step_; }
  int64_t train_examples() const { return source_ ? source_->size() : 0; }

  SftTrainer(const SftTrainer&) = delete;
  SftTrainer& operator=(const SftTrainer&) = delete;

 private:
  struct StepStats;
  explicit SftTrainer(SftDeps deps);

  absl::StatusOr<StepStats> train_step(int64_t step);
  absl::Status evaluate_and_keep_best(int64_t step, std::map<std::string, double>& metrics);
  absl::Status save_checkpoint();
  absl::Status save_model();

  SftDeps deps_;
  SingleProcess single_;  // the collective when deps_.collective is null
  std::unique_ptr<PromptSource> source_;
  std::vector<TokenSequence> held_out_;
  std::unique_ptr<TrainableModel> trainable_;
  int64_t skipped_too_long_ = 0;
  int64_t step_ = 0;
  std::optional<double> best_eval_loss_;
  int64_t best_step_ = 0;
  int evals_since_best_ = 0;
  int64_t last_eval_step_ = 0;
  double elapsed_s_ = 0;  // training time before this process (from the checkpoint)
};

}  // namespace forge::rl
