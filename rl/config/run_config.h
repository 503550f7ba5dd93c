// The run config: one YAML file, sections named as in configs/*.yaml. Each section is a plain struct
// with its defaults; `visit` names each key once (see config_visitor.h). Relative paths in a file are
// resolved against the file's folder.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "rl/config/config_visitor.h"

namespace forge::rl {

struct RunSection {
  std::string dir = "runs/default";  // metrics, samples, checkpoints, resolved config
  int64_t seed = 1;                  // model init, data order, sampling
  int threads = 0;                   // torch intra-op threads; 0 = all cores
  std::string device = "cpu";        // "cpu" | "cuda"
};

// The model: a Hugging Face config.json plus optional HF-keyed overrides written inline.
struct ModelSection {
  std::string config;        // path to config.json
  std::string checkpoint;    // safetensors folder to start from; "" = initialise from run.seed
  nlohmann::json overrides = nlohmann::json::object();  // any HF key, e.g. num_hidden_layers: 2
};

struct TokenizerSection {
  std::string kind = "byte";  // "byte"
  std::string path;           // tokenizer.json for kinds that need one
};

struct DataSection {
  std::string train;                  // JSONL: prompt, answer | tests, optional rule
  std::string eval;                   // held-out JSONL
  std::string template_name = "r1";   // chat template wrapped around each prompt
  bool shuffle = true;
};

struct RolloutSection {
  int workers = 1;                      // child workers `forge run` starts
  std::vector<std::string> addresses;   // use these workers instead of starting any
  int n = 8;                            // samples per prompt (the GRPO group size)
  double temperature = 1.0;
  double top_p = 1.0;
  int top_k = 0;
  int max_new_tokens = 128;
  std::vector<std::string> stop;
  int max_batch_size = 64;              // sequences decoded together
  int64_t cache_mb = 256;               // latent KV cache budget per worker
};

struct RewardSection {
  std::string address;                  // use this server instead of starting one
  std::map<std::string, double> weights = {{"math", 1.0}, {"format", 0.1}};
  double timeout_s = 10.0;              // per-item grading deadline
  int concurrency = 0;                  // grading threads; 0 = all cores
  int queue_limit = 4096;               // items waiting beyond this are RESOURCE_EXHAUSTED
  std::vector<std::string> plugins;     // reward-rule shared libraries (.so)
};

struct TrainerSection {
  int64_t total_steps = 100;
  int batch_size = 16;                  // prompts per step
  double lr = 1e-5;
  int64_t warmup_steps = 0;
  int64_t save_every = 0;               // 0 = only at the end
  int keep_last = 3;
};

struct ServerSection {
  std::string trainer_address;          // TrainerService listen address; "" = off
};

struct RunConfig {
  RunSection run;
  ModelSection model;
  TokenizerSection tokenizer;
  DataSection data;
  RolloutSection rollout;
  RewardSection reward;
  TrainerSection trainer;
  ServerSection server;

  // Reads `path` (may be "" for all defaults) and applies `overrides` ("a.b=value").
  static absl::StatusOr<RunConfig> load(const std::string& path,
                                        const std::vector<std::string>& overrides = {});
  // The resolved config as YAML (saved as run.dir/config.yaml).
  std::string to_yaml() const;
};

void visit(ConfigVisitor& v, RunConfig& c);

}  // namespace forge::rl
