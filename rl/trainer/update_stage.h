// update, the third stage of a GRPO step: trainer.ppo_epochs passes of the GRPO loss over the
// scored rows, each pass shuffling whole groups into mini-batches (trainer.mini_batch_size groups:
// one AdamW step each) cut into micro-batches of trainer.micro_batch_size rows (gradient
// accumulation; losses are normalised by the mini-batch's token and sequence counts, so the split
// does not change the update). Old log-probs are recomputed before the first update (or taken
// from the rollout, trainer.old_log_probs); reference log-probs when trainer.kl_coef > 0.
// Ranks (rl/dist/): the mini-batches are drawn over the job's groups (the same shuffle on every
// rank), each rank runs the rows of its own groups, the loss is normalised by the mini-batch's
// token and sequence counts over every rank, and the gradients are summed before each optimizer
// step (TrainableModel::step), so N ranks compute the update one rank would on the same batch.
// Asynchronous GRPO (max_staleness > 0): the rows' staleness against the weights the trainer holds
// (version step - 1) is measured and bounded (staleness.h), and the loss is decoupled PPO
// (policy_loss.h: proximal = recomputed, behaviour = the rollout's, truncated at tis_cap). When the
// rollout recorded routing, moe/routing_agreement is measured on the forwards that give the
// recomputed log-probs, and with routing_replay every policy forward uses the recorded experts.
// Torch errors are thrown (c10::Error): call it inside torch_boundary.
// Thread-safety: a function; one thread trains (on every rank).
#pragma once

#include <cstdint>

#include "policy/model.h"
#include "rl/config/run_config.h"
#include "rl/grpo/lr_schedule.h"
#include "rl/grpo/policy_loss.h"
#include "rl/checkpoint/trainable_model.h"
#include "rl/trainer/step_batch.h"

namespace forge::rl {

struct UpdateSettings {
  PolicyLossConfig loss;
  LrSchedule schedule;
  int ppo_epochs = 1;
  int mini_batch_size = 0;    // groups per optimizer step; 0 = every kept group
  int micro_batch_size = 32;  // rows per forward/backward
  OldLogProbs old_log_probs = OldLogProbs::kRecompute;
  double temperature = 1.0;   // the rollout's: log-probs of the distribution it sampled from
  double grad_clip = 1.0;
  double moe_bias_update_speed = 0.0;
  uint64_t seed = 1;          // run.seed: the mini-batch shuffles
  int32_t pad_id = 0;
  int max_staleness = 0;      // rollout.max_staleness
  bool routing_replay = false;

  static UpdateSettings from_config(const RunConfig& config, int32_t pad_id);
};

// `reference` is the frozen initial policy, needed when settings.loss.kl_coef > 0 (else null).
// Errors: a collective failed (a rank is gone).
absl::StatusOr<UpdateStats> update_policy(const ScoredBatch& batch, int64_t step,
                                          const UpdateSettings& settings, TrainableModel& policy,
                                          policy::ModelImpl* reference);

}  // namespace forge::rl
