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
  v.choice("template", s.template_name, {"r1", "plain"});
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
}

void visit_section(ConfigVisitor& v, RewardSection& s) {
  v.value("address", s.address);
  v.value("weights", s.weights);
  v.value("timeout_s", s.timeout_s);
  v.value("concurrency", s.concurrency);
  v.value("queue_limit", s.queue_limit);
  v.value("plugins", s.plugins);
}

void visit_section(ConfigVisitor& v, TrainerSection& s) {
  v.value("total_steps", s.total_steps);
  v.value("batch_size", s.batch_size);
  v.value("lr", s.lr);
  v.value("warmup_steps", s.warmup_steps);
  v.value("save_every", s.save_every);
  v.value("keep_last", s.keep_last);
}

void visit_section(ConfigVisitor& v, ServerSection& s) {
  v.value("trainer_address", s.trainer_address);
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
  if (c.reward.timeout_s <= 0) return bad("reward.timeout_s", "must be > 0");
  if (c.reward.concurrency < 0) return bad("reward.concurrency", "must be >= 0");
  if (c.reward.queue_limit <= 0) return bad("reward.queue_limit", "must be > 0");
  if (c.trainer.total_steps < 0) return bad("trainer.total_steps", "must be >= 0");
  if (c.trainer.batch_size <= 0) return bad("trainer.batch_size", "must be > 0");
  if (c.trainer.lr < 0) return bad("trainer.lr", "must be >= 0");
  if (c.trainer.save_every < 0) return bad("trainer.save_every", "must be >= 0");
  if (c.trainer.keep_last <= 0) return bad("trainer.keep_last", "must be > 0");
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

std::string RunConfig::to_yaml() const {
  RunConfig copy = *this;
  return write_yaml([&](ConfigVisitor& v) { visit(v, copy); });
}

}  // namespace forge::rl
