// The run config: one YAML file, sections named as in configs/*.yaml. Each section is a plain struct
// with its defaults; `visit` names each key once (see config_visitor.h). Relative paths in a file are
// resolved against the file's folder.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "reward/reward_config.h"
#include "rl/config/config_visitor.h"
#include "rl/grpo/grpo_options.h"
#include "rl/grpo/lr_schedule.h"
#include "rollout/request.h"

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
  // Parameters for generation and training: float32 | bfloat16 (training keeps fp32 master
  // weights in the optimizer and computes log-probs in fp32 either way).
  std::string dtype = "float32";
  nlohmann::json overrides = nlohmann::json::object();  // any HF key, e.g. num_hidden_layers: 2
};

struct TokenizerSection {
  std::string kind = "byte";  // "byte" | "hf"
  std::string path;           // hf: a tokenizer.json or a model folder holding one
};

// A built-in task (rl/tasks, `forge data gen`'s generator) that `forge run` trains on when
// data.train is "": n problems from run.seed, written to run.dir/data/train.jsonl.
struct DataGenerateSection {
  std::string task;                   // "" (none) | arithmetic | countdown
  int64_t n = 4000;                   // distinct problems
  int digits = 1;                     // arithmetic: operand digits
  int ops = 2;                        // arithmetic: operations per problem
};

struct DataSection {
  std::string train;                  // JSONL: prompt, answer | tests, optional rule; "" = generate
  std::string eval;                   // held-out JSONL
  std::string template_name = "r1";   // chat template (chat_template.h): r1 | r1-compact |
                                      // plain | deepseek-r1 | qwen3
  bool shuffle = true;
  DataGenerateSection generate;
};

struct RolloutSection {
  int workers = 1;                      // child workers `forge run` starts; 0 = generate in the
                                        // trainer's process (no workers)
  std::vector<std::string> addresses;   // use these workers instead of starting any
  int n = 8;                            // samples per prompt (the GRPO group size)
  double temperature = 1.0;
  double top_p = 1.0;
  int top_k = 0;
  int max_new_tokens = 128;
  std::vector<std::string> stop;
  int max_batch_size = 64;              // sequences decoded together
  int64_t cache_mb = 256;               // latent KV cache budget per worker
  int max_seq_len = 0;                  // prompt + completion tokens per sequence on a worker (one
                                        // cache slot); 0 = the model's max_position_embeddings
  int max_queued = 4096;                // sequences waiting on a worker; beyond: RESOURCE_EXHAUSTED
  int max_n = 1024;                     // largest samples-per-prompt a worker accepts
  int weight_chunk_mb = 4;              // UpdateWeights chunk size
  double timeout_s = 0;                 // deadline of each Generate call to a worker; 0 = none
  int max_attempts = 3;                 // tries per prompt shard, each on another worker if any
  // Asynchronous GRPO (rl/trainer/rollout_prefetch.h): while step t trains, the workers generate
  // for steps t+1 .. t+k, and no sample trains more than k policy versions old; 0 = synchronous.
  int max_staleness = 0;
  // What unfinished sequences do at a weight update (matters when max_staleness > 0): off (finish
  // on the weights they started with) | recompute (continue on the new weights, cache rewritten
  // by them) | keep (continue on the new weights over the old cache).
  rollout::PartialRollout partial_rollouts = rollout::PartialRollout::kRecompute;
  bool return_routing = false;          // workers record routed experts (moe/routing_agreement);
                                        // trainer.routing_replay turns it on
};

// The reward stack's keys (weights, timeout_s, concurrency, queue_limit, plugins, plugin_options,
// format.*, length.*, math.*, code.*) are reward::RewardConfig's (reward/reward_config.h).
struct RewardSection : reward::RewardConfig {
  std::string address;                  // use this server instead of starting one
  bool in_process = false;              // grade in the trainer's process: no reward server
};

struct TrainerSection {
  int64_t total_steps = 100;
  int batch_size = 16;                  // prompts per step (verl's data.train_batch_size)
  // Optimizer and schedule.
  double lr = 1e-5;
  LrSchedule::Kind lr_schedule = LrSchedule::Kind::kConstant;  // constant | cosine
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.0;            // cosine floor, as a fraction of lr
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double grad_clip = 1.0;               // max global grad norm; 0 = off
  // Advantages and the policy loss (verl's names).
  AdvantageEstimator adv_estimator = AdvantageEstimator::kGrpo;  // grpo | dr_grpo | rloo | ...
  double adv_eps = 1e-6;
  double clip_ratio_low = 0.2;
  double clip_ratio_high = 0.2;         // DAPO clip-higher: 0.28
  double clip_ratio_c = 0.0;            // dual clip; 0 = off
  LossAggMode loss_agg_mode = LossAggMode::kTokenMean;  // token-mean | seq-mean-token-mean | ...
  int loss_norm_length = 0;             // seq-mean-token-sum-norm's constant; 0 = max_new_tokens
  double kl_coef = 0.0;                 // KL to the frozen initial policy; 0 loads no reference
  KlEstimator kl_estimator = KlEstimator::kK3;  // k1 | k2 | k3
  double entropy_coef = 0.0;            // entropy bonus
  // PPO epochs and batching.
  int ppo_epochs = 1;
  int mini_batch_size = 0;              // prompts per optimizer step; 0 = the whole batch
  int micro_batch_size = 32;            // sequences per forward/backward (gradient accumulation)
  OldLogProbs old_log_probs = OldLogProbs::kRecompute;  // recompute | rollout
  double tis_cap = 0.0;                 // truncated importance sampling cap; 0 = off (async: > 0)
  bool routing_replay = false;          // R3: the trainer's forwards route every token to the
                                        // experts the rollout recorded for it
  // DAPO.
  bool dynamic_sampling = false;        // drop groups whose rewards are all equal, sample more
  int max_gen_batches = 3;              // bound on generation rounds per step with dynamic sampling
  bool retire_solved = false;           // a prompt answered right in every sample of its group is
                                        // not drawn again (POLARIS / Skywork-OR1's filtering)
  bool overlong_filter = false;         // truncated completions (finish "length") get no loss
  // MoE routing-bias balancing during RL (DeepSeek-V3's gamma); 0 = frozen (the default in RL).
  double moe_bias_update_speed = 0.0;
  // Checkpoints and logs.
  int64_t save_every = 0;               // 0 = only at the end
  int keep_last = 3;
  int samples_per_step = 4;             // completions written to samples.jsonl each step
};

// Data-parallel training (`forge run` / `forge sft` under torchrun, Slurm, Kubernetes or
// `--nproc N`; rl/dist/): c10d over a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT.
struct DistSection {
  std::string backend = "auto";  // auto (nccl when run.device is cuda, else gloo) | gloo | nccl
  int timeout_s = 300;           // rendezvous and every collective
  int zero = 0;                  // 1: ZeRO-1, the optimizer state sharded over the ranks
  int check_every = 10;          // steps between parameter checksums across ranks; 0 = never
  int bucket_mb = 25;            // gradient all-reduce bucket size
};

// TLS for every gRPC server of the process (and the client side of Forge's own calls): a server
// certificate and key, and a CA whose client certificates are required (mutual TLS).
struct ServerTlsSection {
  std::string cert;       // PEM certificate chain; "" = no TLS
  std::string key;        // PEM private key of `cert`
  std::string client_ca;  // PEM CA: clients must present a certificate it signed;
                          // Forge's own clients also verify servers against it
};

// How a process serves: the addresses of the trainer's services and, for every server (trainer,
// rollout worker, reward server), Prometheus metrics and authentication. A non-loopback listen
// address needs TLS or a token (or --insecure).
struct ServerSection {
  std::string trainer_address;          // TrainerService listen address; "" = off
  std::string metrics_address;          // Prometheus /metrics HOST:PORT; "" = off
  std::string auth_token_file;          // file holding a bearer token every RPC but health needs
  ServerTlsSection tls;
};

// `forge sft`: cross-entropy on completion tokens (the prompt is masked) with AdamW, warmup +
// cosine, gradient clipping and the MoE routing-bias update; stops at max_steps or when the
// held-out loss has not improved by min_delta for `patience` evaluations (rl/recipe/sft_trainer.h).
struct SftSection {
  std::string data;                     // JSONL with `completion`; "" = data.train
  int64_t max_steps = 1000;             // optimizer steps at most
  int batch_size = 32;                  // examples per optimizer step
  int micro_batch_size = 32;            // sequences per forward/backward (gradient accumulation)
  int max_seq_len = 0;                  // prompt + completion tokens; longer examples are skipped;
                                        // 0 = the model's max_position_embeddings
  int pack_tokens = 0;                  // packing: a micro-batch's examples share rows of this many
                                        // tokens, each attending only to itself; 0 = one per row
  double lr = 1e-3;
  LrSchedule::Kind lr_schedule = LrSchedule::Kind::kCosine;  // constant | cosine (after warmup)
  int64_t warmup_steps = 20;
  double min_lr_ratio = 0.1;            // cosine floor, as a fraction of lr
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.95;
  double grad_clip = 1.0;               // max global grad norm; 0 = off
  double moe_bias_update_speed = 1e-3;  // DeepSeek-V3's gamma: routing-bias balancing is on in SFT
  int64_t eval_every = 50;              // held-out loss every N steps; 0 = never (no plateau stop)
  int eval_examples = 256;              // held-out examples scored each time; 0 = all
  int patience = 3;                     // stop after this many evals without improvement
  double min_delta = 1e-3;              // an improvement is a drop of more than this
  int64_t save_every = 0;               // checkpoints every N steps; 0 = only at the end
  int keep_last = 2;
  int64_t log_every = 10;               // progress line on stdout every N steps
};

// `forge eval`: greedy, R1's pass@1 (k samples at `temperature`, `top_p`), pass@1 at
// `high_temperature`, pass@k, maj@k and the format rate on a held-out set (rl/recipe/evaluator.h).
struct EvalSection {
  std::string data;                     // JSONL; "" = data.eval
  int max_prompts = 200;                // the first N prompts of the file; 0 = all
  int k = 8;                            // samples per prompt at each temperature
  int max_new_tokens = 0;               // 0 = rollout.max_new_tokens
  double temperature = 0.6;             // R1's pass@1 setting
  double top_p = 0.95;
  double high_temperature = 1.0;        // pass1_t1 and format_rate (top_p 1)
  int64_t seed = 1;
  int max_batch_size = 256;             // sequences decoded together by the in-process engine
};

// `forge distill`: rejection-samples a teacher through rollout workers and SFTs a dense student on
// the accepted responses with the `sft` settings (rl/recipe/distiller.h).
struct DistillSection {
  std::string teacher;                  // teacher checkpoint folder; "" = model.checkpoint
  std::string student_config = "configs/models/tiny-dense.json";  // the student's config.json
  int workers = 1;                      // child rollout workers; rollout.addresses = use those
  int k = 8;                            // samples per prompt
  double temperature = 0.6;
  double top_p = 0.95;
  int max_new_tokens = 0;               // 0 = rollout.max_new_tokens
  std::string data;                     // the prompts to sample (JSONL with answers); "" = data.train
  int max_prompts = 0;                  // the first N prompts of the file; 0 = all
  int max_per_prompt = 0;               // accepted responses kept per prompt; 0 = all
  int held_out_prompts = 200;           // the accepted responses of the last N prompts with any are
                                        // the student's held-out set (plateau stop, best model),
                                        // at most a tenth of them; 0 = data.eval's completions
  bool dedup = true;                    // keep one copy of identical accepted responses
  int prompts_per_request = 64;         // prompts per Generate call (progress granularity)
  int max_batch_size = 256;             // the children's rollout.max_batch_size
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
  SftSection sft;
  EvalSection eval;
  DistillSection distill;
  DistSection dist;

  // Reads `path` (may be "" for all defaults) and applies `overrides` ("a.b=value").
  static absl::StatusOr<RunConfig> load(const std::string& path,
                                        const std::vector<std::string>& overrides = {});
  // The resolved config as YAML (saved as run.dir/config.yaml).
  std::string to_yaml() const;
};

void visit(ConfigVisitor& v, RunConfig& c);

// The reward stack's config: the reward section, with the length rule's max_len defaulting to
// rollout.max_new_tokens.
reward::RewardConfig reward_config_of(const RunConfig& config);

}  // namespace forge::rl
