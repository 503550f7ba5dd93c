#include "rl/config/config_ranges.h"

#include "absl/strings/str_cat.h"

namespace forge::rl {
namespace {

// Range checks of the recipe stages' sections; the message names the key.
absl::Status check_recipe_ranges(const RunConfig& c) {
  auto bad = [](const char* key, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", why));
  };
  const SftSection& s = c.sft;
  if (s.max_steps < 0) return bad("sft.max_steps", "must be >= 0");
  if (s.batch_size <= 0) return bad("sft.batch_size", "must be > 0");
  if (s.micro_batch_size <= 0) return bad("sft.micro_batch_size", "must be > 0");
  if (s.max_seq_len < 0) return bad("sft.max_seq_len", "must be >= 0");
  if (s.pack_tokens < 0) return bad("sft.pack_tokens", "must be >= 0");
  if (s.lr < 0) return bad("sft.lr", "must be >= 0");
  if (s.warmup_steps < 0) return bad("sft.warmup_steps", "must be >= 0");
  if (s.min_lr_ratio < 0 || s.min_lr_ratio > 1) return bad("sft.min_lr_ratio", "must be in [0, 1]");
  if (s.weight_decay < 0) return bad("sft.weight_decay", "must be >= 0");
  if (s.adam_beta1 < 0 || s.adam_beta1 >= 1) return bad("sft.adam_beta1", "must be in [0, 1)");
  if (s.adam_beta2 < 0 || s.adam_beta2 >= 1) return bad("sft.adam_beta2", "must be in [0, 1)");
  if (s.grad_clip < 0) return bad("sft.grad_clip", "must be >= 0");
  if (s.moe_bias_update_speed < 0) return bad("sft.moe_bias_update_speed", "must be >= 0");
  if (s.eval_every < 0) return bad("sft.eval_every", "must be >= 0");
  if (s.eval_examples < 0) return bad("sft.eval_examples", "must be >= 0");
  if (s.patience <= 0) return bad("sft.patience", "must be > 0");
  if (s.min_delta < 0) return bad("sft.min_delta", "must be >= 0");
  if (s.save_every < 0) return bad("sft.save_every", "must be >= 0");
  if (s.keep_last <= 0) return bad("sft.keep_last", "must be > 0");
  if (s.log_every < 0) return bad("sft.log_every", "must be >= 0");
  const EvalSection& e = c.eval;
  if (e.max_prompts < 0) return bad("eval.max_prompts", "must be >= 0");
  if (e.k <= 0) return bad("eval.k", "must be > 0");
  if (e.max_new_tokens < 0) return bad("eval.max_new_tokens", "must be >= 0");
  if (e.temperature < 0) return bad("eval.temperature", "must be >= 0");
  if (e.top_p <= 0 || e.top_p > 1) return bad("eval.top_p", "must be in (0, 1]");
  if (e.high_temperature < 0) return bad("eval.high_temperature", "must be >= 0");
  if (e.max_batch_size <= 0) return bad("eval.max_batch_size", "must be > 0");
  const DistillSection& d = c.distill;
  if (d.workers < 0) return bad("distill.workers", "must be >= 0");
  if (d.k <= 0) return bad("distill.k", "must be > 0");
  if (d.temperature < 0) return bad("distill.temperature", "must be >= 0");
  if (d.top_p <= 0 || d.top_p > 1) return bad("distill.top_p", "must be in (0, 1]");
  if (d.max_new_tokens < 0) return bad("distill.max_new_tokens", "must be >= 0");
  if (d.max_prompts < 0) return bad("distill.max_prompts", "must be >= 0");
  if (d.max_per_prompt < 0) return bad("distill.max_per_prompt", "must be >= 0");
  if (d.held_out_prompts < 0) return bad("distill.held_out_prompts", "must be >= 0");
  if (d.prompts_per_request <= 0) return bad("distill.prompts_per_request", "must be > 0");
  if (d.max_batch_size <= 0) return bad("distill.max_batch_size", "must be > 0");
  return absl::OkStatus();
}

// Range checks that need more than a type; the message names the key.
absl::Status check_section_ranges(const RunConfig& c) {
  auto bad = [](const char* key, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", why));
  };
  if (c.run.threads < 0) return bad("run.threads", "must be >= 0");
  if (c.rollout.workers < 0) return bad("rollout.workers", "must be >= 0");
  if (c.data.generate.n <= 0) return bad("data.generate.n", "must be > 0");
  if (c.rollout.n <= 0) return bad("rollout.n", "must be > 0");
  if (c.rollout.temperature < 0) return bad("rollout.temperature", "must be >= 0");
  if (c.rollout.top_p <= 0 || c.rollout.top_p > 1) return bad("rollout.top_p", "must be in (0, 1]");
  if (c.rollout.top_k < 0) return bad("rollout.top_k", "must be >= 0");
  if (c.rollout.max_new_tokens <= 0) return bad("rollout.max_new_tokens", "must be > 0");
  if (c.rollout.max_batch_size <= 0) return bad("rollout.max_batch_size", "must be > 0");
  if (c.rollout.cache_mb <= 0) return bad("rollout.cache_mb", "must be > 0");
  if (c.rollout.max_seq_len < 0) return bad("rollout.max_seq_len", "must be >= 0");
  if (c.rollout.max_queued <= 0) return bad("rollout.max_queued", "must be > 0");
  if (c.rollout.max_n <= 0) return bad("rollout.max_n", "must be > 0");
  if (c.rollout.weight_chunk_mb <= 0 || c.rollout.weight_chunk_mb > 256) {
    return bad("rollout.weight_chunk_mb", "must be in [1, 256]");
  }
  if (c.rollout.timeout_s < 0) return bad("rollout.timeout_s", "must be >= 0");
  if (c.rollout.max_attempts <= 0) return bad("rollout.max_attempts", "must be > 0");
  if (absl::Status reward = c.reward.validate(); !reward.ok()) return reward;
  if (c.trainer.total_steps < 0) return bad("trainer.total_steps", "must be >= 0");
  if (c.trainer.batch_size <= 0) return bad("trainer.batch_size", "must be > 0");
  if (c.trainer.lr < 0) return bad("trainer.lr", "must be >= 0");
  if (c.trainer.save_every < 0) return bad("trainer.save_every", "must be >= 0");
  if (c.trainer.keep_last <= 0) return bad("trainer.keep_last", "must be > 0");
  if (c.trainer.min_lr_ratio < 0 || c.trainer.min_lr_ratio > 1) {
    return bad("trainer.min_lr_ratio", "must be in [0, 1]");
  }
  if (c.trainer.weight_decay < 0) return bad("trainer.weight_decay", "must be >= 0");
  if (c.trainer.adam_beta1 < 0 || c.trainer.adam_beta1 >= 1) {
    return bad("trainer.adam_beta1", "must be in [0, 1)");
  }
  if (c.trainer.adam_beta2 < 0 || c.trainer.adam_beta2 >= 1) {
    return bad("trainer.adam_beta2", "must be in [0, 1)");
  }
  if (c.trainer.grad_clip < 0) return bad("trainer.grad_clip", "must be >= 0");
  if (c.trainer.adv_eps <= 0) return bad("trainer.adv_eps", "must be > 0");
  if (c.trainer.clip_ratio_low < 0 || c.trainer.clip_ratio_low >= 1) {
    return bad("trainer.clip_ratio_low", "must be in [0, 1)");
  }
  if (c.trainer.clip_ratio_high < 0) return bad("trainer.clip_ratio_high", "must be >= 0");
  if (c.trainer.clip_ratio_c != 0 && c.trainer.clip_ratio_c <= 1) {
    return bad("trainer.clip_ratio_c", "must be > 1 (or 0 for off)");
  }
  if (c.trainer.loss_norm_length < 0) return bad("trainer.loss_norm_length", "must be >= 0");
  if (c.trainer.kl_coef < 0) return bad("trainer.kl_coef", "must be >= 0");
  if (c.trainer.ppo_epochs <= 0) return bad("trainer.ppo_epochs", "must be > 0");
  if (c.trainer.mini_batch_size < 0 || c.trainer.mini_batch_size > c.trainer.batch_size) {
    return bad("trainer.mini_batch_size", "must be in [0, trainer.batch_size]");
  }
  if (c.trainer.micro_batch_size <= 0) return bad("trainer.micro_batch_size", "must be > 0");
  if (c.trainer.tis_cap < 0) return bad("trainer.tis_cap", "must be >= 0");
  if (c.rollout.max_staleness < 0) return bad("rollout.max_staleness", "must be >= 0");
  if (c.rollout.max_staleness > 0 && c.trainer.tis_cap <= 0) {
    return bad("trainer.tis_cap",
               "must be > 0 with rollout.max_staleness > 0: the cap of the importance weights "
               "that correct stale samples (e.g. 2)");
  }
  if (c.rollout.max_staleness > 0 && c.trainer.old_log_probs != OldLogProbs::kRecompute) {
    return bad("trainer.old_log_probs",
               "must be recompute with rollout.max_staleness > 0 (the proximal policy of "
               "decoupled PPO)");
  }
  if (c.trainer.max_gen_batches <= 0) return bad("trainer.max_gen_batches", "must be > 0");
  if (c.trainer.moe_bias_update_speed < 0) {
    return bad("trainer.moe_bias_update_speed", "must be >= 0");
  }
  if (c.trainer.samples_per_step < 0) return bad("trainer.samples_per_step", "must be >= 0");
  if (c.dist.timeout_s <= 0) return bad("dist.timeout_s", "must be > 0");
  if (c.dist.zero != 0 && c.dist.zero != 1) return bad("dist.zero", "must be 0 or 1");
  if (c.dist.check_every < 0) return bad("dist.check_every", "must be >= 0");
  if (c.dist.bucket_mb <= 0) return bad("dist.bucket_mb", "must be > 0");
  return absl::OkStatus();
}

}  // namespace

absl::Status check_ranges(const RunConfig& config) {
  absl::Status st = check_section_ranges(config);
  if (st.ok()) st = check_recipe_ranges(config);
  return st;
}

}  // namespace forge::rl
