#include "rl/config/run_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "policy/model_config.h"
#include "rl/config/yaml_config.h"

namespace forge::rl {
namespace {

void visit_section(ConfigVisitor& v, RunSection& s) {
  v.path("dir", s.dir);
  v.value("seed", s.seed);
  v.value("threads", s.threads);
  v.choice("device", s.device, {"cpu", "cuda"});
}

void visit_section(ConfigVisitor& v, ModelSection& s) {
  v.path("config", s.config);
  v.path("checkpoint", s.checkpoint);
  v.remaining(s.overrides, [](const std::string& key) -> std::string {
    const auto& known = policy::ModelConfig::known_keys();
    if (std::find(known.begin(), known.end(), key) != known.end()) return "";
    return "unknown key (the model section takes 'config', 'checkpoint' and Hugging Face "
           "config.json keys)";
  });
}

void visit_section(ConfigVisitor& v, TokenizerSection& s) {
  v.choice("kind", s.kind, {"byte"});
  v.path("path", s.path);
}

void visit_section(ConfigVisitor& v, DataSection& s) {
  v.path("train", s.train);
  v.path("eval", s.eval);
  v.choice("template", s.template_name, {"r1", "r1-compact", "plain"});
  v.value("shuffle", s.shuffle);
}

void visit_section(ConfigVisitor& v, RolloutSection& s) {
  v.value("workers", s.workers);
  v.value("addresses", s.addresses);
  v.value("n", s.n);
  v.value("temperature", s.temperature);
  v.value("top_p", s.top_p);
  v.value("top_k", s.top_k);
  v.value("max_new_tokens", s.max_new_tokens);
  v.value("stop", s.stop);
  v.value("max_batch_size", s.max_batch_size);
  v.value("cache_mb", s.cache_mb);
  v.value("max_seq_len", s.max_seq_len);
  v.value("max_queued", s.max_queued);
  v.value("max_n", s.max_n);
  v.value("weight_chunk_mb", s.weight_chunk_mb);
  v.value("timeout_s", s.timeout_s);
  v.value("max_attempts", s.max_attempts);
}

// The code rule's keys (reward/code/code_rule.h, code_rule_options_from_json); their types are
// checked when the reward stack starts.
const std::vector<std::string>& code_keys() {
  static const std::vector<std::string> keys = {
      "workers",  "reuse_workers", "wall_seconds", "cpu_seconds",    "memory_mb",
      "max_processes", "max_file_mb", "tmp_mb",   "max_open_files", "max_output_kb",
      "bwrap",    "python",        "sandbox_uid", "sandbox_gid",    "extra_ro_binds"};
  return keys;
}

void visit_section(ConfigVisitor& v, RewardSection& s) {
  v.value("address", s.address);
  v.value("weights", s.weights);
  v.value("timeout_s", s.timeout_s);
  v.value("max_error_fraction", s.max_error_fraction);
  v.value("concurrency", s.concurrency);
  v.value("queue_limit", s.queue_limit);
  v.value("plugins", s.plugins);
  v.section("plugin_options", [&] { v.remaining(s.plugin_options, nullptr); });
  v.section("format", [&] {
    v.value("pattern", s.format.pattern);
    v.value("unique_tags", s.format.unique_tags);
    v.value("prefix", s.format.prefix);
  });
  v.section("length", [&] {
    v.value("max_len", s.length.max_len);
    v.value("cache_len", s.length.cache_len);
    v.value("bytes_per_token", s.length.bytes_per_token);
  });
  v.section("math", [&] {
    v.value("rel_tolerance", s.math.rel_tolerance);
    v.value("abs_tolerance", s.math.abs_tolerance);
    v.value("percent_either_way", s.math.percent_either_way);
    v.value("float_rounding", s.math.float_rounding);
  });
  v.section("code", [&] {
    v.remaining(s.code, [](const std::string& key) -> std::string {
      const auto& known = code_keys();
      if (std::find(known.begin(), known.end(), key) != known.end()) return "";
      return "unknown key (the code section takes: workers, reuse_workers, wall_seconds, "
             "cpu_seconds, memory_mb, max_processes, max_file_mb, tmp_mb, max_open_files, "
             "max_output_kb, bwrap, python, sandbox_uid, sandbox_gid, extra_ro_binds)";
    });
  });
}

void visit_section(ConfigVisitor& v, TrainerSection& s) {
  v.value("total_steps", s.total_steps);
  v.value("batch_size", s.batch_size);
  v.value("lr", s.lr);
  v.choice("lr_schedule", s.lr_schedule, {"constant", "cosine"});
  v.value("warmup_steps", s.warmup_steps);
  v.value("min_lr_ratio", s.min_lr_ratio);
  v.value("weight_decay", s.weight_decay);
  v.value("adam_beta1", s.adam_beta1);
  v.value("adam_beta2", s.adam_beta2);
  v.value("grad_clip", s.grad_clip);
  v.choice("adv_estimator", s.adv_estimator,
           {"grpo", "dr_grpo", "rloo", "reinforce_plus_plus", "reinforce_plus_plus_baseline"});
  v.value("adv_eps", s.adv_eps);
  v.value("clip_ratio_low", s.clip_ratio_low);
  v.value("clip_ratio_high", s.clip_ratio_high);
  v.value("clip_ratio_c", s.clip_ratio_c);
  v.choice("loss_agg_mode", s.loss_agg_mode,
           {"token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"});
  v.value("loss_norm_length", s.loss_norm_length);
  v.value("kl_coef", s.kl_coef);
  v.choice("kl_estimator", s.kl_estimator, {"k1", "k2", "k3"});
  v.value("entropy_coef", s.entropy_coef);
  v.value("ppo_epochs", s.ppo_epochs);
  v.value("mini_batch_size", s.mini_batch_size);
  v.value("micro_batch_size", s.micro_batch_size);
  v.choice("old_log_probs", s.old_log_probs, {"recompute", "rollout"});
  v.value("tis_cap", s.tis_cap);
  v.value("dynamic_sampling", s.dynamic_sampling);
  v.value("max_gen_batches", s.max_gen_batches);
  v.value("overlong_filter", s.overlong_filter);
  v.value("moe_bias_update_speed", s.moe_bias_update_speed);
  v.value("save_every", s.save_every);
  v.value("keep_last", s.keep_last);
  v.value("samples_per_step", s.samples_per_step);
}

void visit_section(ConfigVisitor& v, ServerSection& s) {
  v.value("trainer_address", s.trainer_address);
}

void visit_section(ConfigVisitor& v, SftSection& s) {
  v.path("data", s.data);
  v.value("max_steps", s.max_steps);
  v.value("batch_size", s.batch_size);
  v.value("micro_batch_size", s.micro_batch_size);
  v.value("max_seq_len", s.max_seq_len);
  v.value("pack_tokens", s.pack_tokens);
  v.value("lr", s.lr);
  v.choice("lr_schedule", s.lr_schedule, {"constant", "cosine"});
  v.value("warmup_steps", s.warmup_steps);
  v.value("min_lr_ratio", s.min_lr_ratio);
  v.value("weight_decay", s.weight_decay);
  v.value("adam_beta1", s.adam_beta1);
  v.value("adam_beta2", s.adam_beta2);
  v.value("grad_clip", s.grad_clip);
  v.value("moe_bias_update_speed", s.moe_bias_update_speed);
  v.value("eval_every", s.eval_every);
  v.value("eval_examples", s.eval_examples);
  v.value("patience", s.patience);
  v.value("min_delta", s.min_delta);
  v.value("save_every", s.save_every);
  v.value("keep_last", s.keep_last);
  v.value("log_every", s.log_every);
}

void visit_section(ConfigVisitor& v, EvalSection& s) {
  v.path("data", s.data);
  v.value("max_prompts", s.max_prompts);
  v.value("k", s.k);
  v.value("max_new_tokens", s.max_new_tokens);
  v.value("temperature", s.temperature);
  v.value("top_p", s.top_p);
  v.value("high_temperature", s.high_temperature);
  v.value("seed", s.seed);
  v.value("max_batch_size", s.max_batch_size);
}

void visit_section(ConfigVisitor& v, DistillSection& s) {
  v.path("teacher", s.teacher);
  v.path("student_config", s.student_config);
  v.value("workers", s.workers);
  v.value("k", s.k);
  v.value("temperature", s.temperature);
  v.value("top_p", s.top_p);
  v.value("max_new_tokens", s.max_new_tokens);
  v.path("data", s.data);
  v.value("max_prompts", s.max_prompts);
  v.value("max_per_prompt", s.max_per_prompt);
  v.value("held_out_prompts", s.held_out_prompts);
  v.value("dedup", s.dedup);
  v.value("prompts_per_request", s.prompts_per_request);
  v.value("max_batch_size", s.max_batch_size);
}

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

template <typename Section>
void named(ConfigVisitor& v, const char* key, Section& s) {
  v.section(key, [&] { visit_section(v, s); });
}

// Range checks that need more than a type; the message names the key.
absl::Status check_ranges(const RunConfig& c) {
  auto bad = [](const char* key, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", why));
  };
  if (c.run.threads < 0) return bad("run.threads", "must be >= 0");
  if (c.rollout.workers < 0) return bad("rollout.workers", "must be >= 0");
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
  if (c.trainer.max_gen_batches <= 0) return bad("trainer.max_gen_batches", "must be > 0");
  if (c.trainer.moe_bias_update_speed < 0) {
    return bad("trainer.moe_bias_update_speed", "must be >= 0");
  }
  if (c.trainer.samples_per_step < 0) return bad("trainer.samples_per_step", "must be >= 0");
  return absl::OkStatus();
}

}  // namespace

void visit(ConfigVisitor& v, RunConfig& c) {
  named(v, "run", c.run);
  named(v, "model", c.model);
  named(v, "tokenizer", c.tokenizer);
  named(v, "data", c.data);
  named(v, "rollout", c.rollout);
  named(v, "reward", c.reward);
  named(v, "trainer", c.trainer);
  named(v, "server", c.server);
  named(v, "sft", c.sft);
  named(v, "eval", c.eval);
  named(v, "distill", c.distill);
}

absl::StatusOr<RunConfig> RunConfig::load(const std::string& path,
                                          const std::vector<std::string>& overrides) {
  ASSIGN_OR_RETURN(YamlConfig yaml, YamlConfig::from_file(path));
  RETURN_IF_ERROR(yaml.apply_overrides(overrides));
  RunConfig config;
  RETURN_IF_ERROR(yaml.read([&](ConfigVisitor& v) { visit(v, config); }));
  absl::Status ranges = check_ranges(config);
  if (ranges.ok()) ranges = check_recipe_ranges(config);
  if (!ranges.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(yaml.origin(), ": ", ranges.message()));
  }
  return config;
}

std::string RunConfig::to_yaml() const {
  RunConfig copy = *this;
  return write_yaml([&](ConfigVisitor& v) { visit(v, copy); });
}

}  // namespace forge::rl
