#include "rl/config/run_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "policy/model_config.h"
#include "rl/config/config_ranges.h"
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
  v.choice("dtype", s.dtype, {"float32", "bfloat16"});
  v.remaining(s.overrides, [](const std::string& key) -> std::string {
    const auto& known = policy::ModelConfig::known_keys();
    if (std::find(known.begin(), known.end(), key) != known.end()) return "";
    return "unknown key (the model section takes 'config', 'checkpoint', 'dtype' and Hugging "
           "Face config.json keys)";
  });
}

void visit_section(ConfigVisitor& v, TokenizerSection& s) {
  v.choice("kind", s.kind, {"byte", "hf"});
  v.path("path", s.path);
}

void visit_section(ConfigVisitor& v, DataSection& s) {
  v.path("train", s.train);
  v.path("eval", s.eval);
  v.choice("template", s.template_name, {"r1", "r1-compact", "plain", "deepseek-r1", "qwen3"});
  v.value("shuffle", s.shuffle);
  v.section("generate", [&] {
    v.choice("task", s.generate.task, {"", "arithmetic", "countdown"});
    v.value("n", s.generate.n);
    v.value("digits", s.generate.digits);
    v.value("ops", s.generate.ops);
  });
}

const EnumNames<rollout::PartialRollout>& partial_rollout_names() {
  static const EnumNames<rollout::PartialRollout> names = {
      {"off", rollout::PartialRollout::kOff},
      {"recompute", rollout::PartialRollout::kRecompute},
      {"keep", rollout::PartialRollout::kKeep}};
  return names;
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
  v.value("max_staleness", s.max_staleness);
  enum_choice(v, "partial_rollouts", s.partial_rollouts, partial_rollout_names());
  v.value("return_routing", s.return_routing);
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
  v.value("in_process", s.in_process);
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
  enum_choice(v, "lr_schedule", s.lr_schedule, LrSchedule::kind_names());
  v.value("warmup_steps", s.warmup_steps);
  v.value("min_lr_ratio", s.min_lr_ratio);
  v.value("weight_decay", s.weight_decay);
  v.value("adam_beta1", s.adam_beta1);
  v.value("adam_beta2", s.adam_beta2);
  v.value("grad_clip", s.grad_clip);
  enum_choice(v, "adv_estimator", s.adv_estimator, advantage_estimator_names());
  v.value("adv_eps", s.adv_eps);
  v.value("clip_ratio_low", s.clip_ratio_low);
  v.value("clip_ratio_high", s.clip_ratio_high);
  v.value("clip_ratio_c", s.clip_ratio_c);
  enum_choice(v, "loss_agg_mode", s.loss_agg_mode, loss_agg_mode_names());
  v.value("loss_norm_length", s.loss_norm_length);
  v.value("kl_coef", s.kl_coef);
  enum_choice(v, "kl_estimator", s.kl_estimator, kl_estimator_names());
  v.value("entropy_coef", s.entropy_coef);
  v.value("ppo_epochs", s.ppo_epochs);
  v.value("mini_batch_size", s.mini_batch_size);
  v.value("micro_batch_size", s.micro_batch_size);
  enum_choice(v, "old_log_probs", s.old_log_probs, old_log_probs_names());
  v.value("tis_cap", s.tis_cap);
  v.value("routing_replay", s.routing_replay);
  v.value("dynamic_sampling", s.dynamic_sampling);
  v.value("max_gen_batches", s.max_gen_batches);
  v.value("retire_solved", s.retire_solved);
  v.value("overlong_filter", s.overlong_filter);
  v.value("moe_bias_update_speed", s.moe_bias_update_speed);
  v.value("save_every", s.save_every);
  v.value("keep_last", s.keep_last);
  v.value("samples_per_step", s.samples_per_step);
}

void visit_section(ConfigVisitor& v, DistSection& s) {
  v.choice("backend", s.backend, {"auto", "gloo", "nccl"});
  v.value("timeout_s", s.timeout_s);
  v.value("zero", s.zero);
  v.value("check_every", s.check_every);
  v.value("bucket_mb", s.bucket_mb);
}

void visit_section(ConfigVisitor& v, ServerSection& s) {
  v.value("trainer_address", s.trainer_address);
  v.value("metrics_address", s.metrics_address);
  v.path("auth_token_file", s.auth_token_file);
  v.section("tls", [&] {
    v.path("cert", s.tls.cert);
    v.path("key", s.tls.key);
    v.path("client_ca", s.tls.client_ca);
  });
}

void visit_section(ConfigVisitor& v, SftSection& s) {
  v.path("data", s.data);
  v.value("max_steps", s.max_steps);
  v.value("batch_size", s.batch_size);
  v.value("micro_batch_size", s.micro_batch_size);
  v.value("max_seq_len", s.max_seq_len);
  v.value("pack_tokens", s.pack_tokens);
  v.value("lr", s.lr);
  enum_choice(v, "lr_schedule", s.lr_schedule, LrSchedule::kind_names());
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

template <typename Section>
void named(ConfigVisitor& v, const char* key, Section& s) {
  v.section(key, [&] { visit_section(v, s); });
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
  named(v, "dist", c.dist);
}

absl::StatusOr<RunConfig> RunConfig::load(const std::string& path,
                                          const std::vector<std::string>& overrides) {
  ASSIGN_OR_RETURN(YamlConfig yaml, YamlConfig::from_file(path));
  RETURN_IF_ERROR(yaml.apply_overrides(overrides));
  RunConfig config;
  RETURN_IF_ERROR(yaml.read([&](ConfigVisitor& v) { visit(v, config); }));
  absl::Status ranges = check_ranges(config);
  if (!ranges.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(yaml.origin(), ": ", ranges.message()));
  }
  return config;
}

reward::RewardConfig reward_config_of(const RunConfig& config) {
  reward::RewardConfig out = config.reward;
  if (out.length.max_len == 0) out.length.max_len = config.rollout.max_new_tokens;
  return out;
}

std::string RunConfig::to_yaml() const {
  RunConfig copy = *this;
  return write_yaml([&](ConfigVisitor& v) { visit(v, copy); });
}

}  // namespace forge::rl
