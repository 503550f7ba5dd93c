// `forge model-info` and `forge generate`: the policy as a command-line tool. Both build the model
// through rl/policy_loader, as workers and the trainer do.
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "policy/checkpoint.h"
#include "policy/checkpoint_files.h"
#include "policy/generate.h"
#include "policy/model_stats.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"
#include "rl/config/run_config.h"
#include "rl/policy_loader.h"

namespace forge::rl::cli {
namespace {

using nlohmann::json;

// What a model-describing option resolves to: the run config's sections (defaults when only a
// checkpoint or a bare config.json is given).
struct Source {
  RunConfig run;
};

// --config may name a run config (YAML) or a Hugging Face config.json; --checkpoint a folder.
absl::StatusOr<Source> resolve_source(const std::string& config, const std::string& checkpoint,
                                      const std::vector<std::string>& overrides = {}) {
  Source s;
  const bool yaml = !config.empty() && !absl::EndsWith(config, ".json");
  auto run = RunConfig::load(yaml ? config : "", overrides);
  if (!run.ok()) return run.status();
  s.run = *std::move(run);
  if (!config.empty() && !yaml) s.run.model.config = config;
  if (!checkpoint.empty()) s.run.model.checkpoint = checkpoint;
  return s;
}

json info_json(const policy::ModelConfig& c, const std::string& dtype) {
  const policy::ModelStats s = policy::model_stats(c);
  const int64_t bytes = dtype == "bfloat16" ? 2 : 4;  // the cache holds the parameters' dtype
  return {
      {"family", c.traits().model_type},
      {"architecture", c.traits().architecture},
      {"dtype", dtype},
      {"total_params", s.total_params},
      {"active_params", s.active_params},
      {"kv_cache_bytes_per_token", s.kv_cache_values_per_token * bytes},
      {"mha_kv_cache_bytes_per_token", s.mha_cache_values_per_token * bytes},
      {"kv_cache_dtype", dtype},
      {"kv_cache_form", c.mla() ? "latent" : "key_value"},
      {"n_routed_experts", c.n_routed_experts},
      {"num_experts_per_tok", c.num_experts_per_tok},
      {"n_shared_experts", c.n_shared_experts},
      {"moe_layers", s.num_moe_layers},
      {"num_hidden_layers", c.num_hidden_layers},
      {"hidden_size", c.hidden_size},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.mla() ? c.num_attention_heads : c.num_key_value_heads},
      {"head_dim", c.attention_head_dim()},
      {"q_lora_rank", c.q_lora_rank ? json(*c.q_lora_rank) : json(nullptr)},
      {"kv_lora_rank", c.kv_lora_rank},
      {"qk_rope_head_dim", c.qk_rope_head_dim},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"scoring_func", c.scoring_func},
      {"topk_method", c.topk_method},
      {"rope_scaling", c.rope_scaling ? json(c.rope_scaling->type) : json(nullptr)},
  };
}

// What a checkpoint folder stores (safetensors headers only; nothing is read).
absl::StatusOr<json> checkpoint_json(const std::string& dir, const policy::ModelConfig& c) {
  auto files = policy::CheckpointFiles::open(dir);
  if (!files.ok()) return files.status();
  json dtypes = json::object();
  for (const auto& [name, file] : files->tensors()) {
    const std::string& stored = files->entry(name).dtype_name;
    dtypes[stored] = dtypes.value(stored, 0) + 1;
  }
  return json{{"dir", dir},
              {"torch_dtype", c.torch_dtype},
              {"tensor_dtypes", dtypes},
              {"fp8_block", c.quantization ? json({c.quantization->block_rows,
                                                   c.quantization->block_cols})
                                           : json(nullptr)},
              {"shards", files->shards().size()},
              {"bytes", files->file_bytes()},
              {"tensors", files->tensors().size()}};
}
}  // namespace

Command add_model_info_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("model-info", description_of("model-info"));
  auto config = std::make_shared<std::string>();
  auto checkpoint = std::make_shared<std::string>();
  app->add_option("--config", *config, "Run config (YAML) or a Hugging Face config.json");
  app->add_option("--checkpoint", *checkpoint, "Checkpoint folder (its config.json is used)");
  auto dtype = std::make_shared<std::string>();
  app->add_option("--dtype", *dtype, "Parameter dtype the sizes assume (default: model.dtype)")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
  return {app, [=] {
            if (config->empty() && checkpoint->empty()) {
              return fail("model-info", "give --config or --checkpoint", kExitUsage);
            }
            auto source = resolve_source(*config, *checkpoint);
            if (!source.ok()) return fail_with_status("model-info", source.status());
            auto model_config = resolve_model_config(source->run.model);
            if (!model_config.ok()) return fail_with_status("model-info", model_config.status());
            json info = info_json(*model_config, dtype->empty() ? source->run.model.dtype : *dtype);
            if (!source->run.model.checkpoint.empty()) {
              auto stored = checkpoint_json(source->run.model.checkpoint, *model_config);
              if (!stored.ok()) return fail_with_status("model-info", stored.status());
              info["checkpoint"] = *stored;
            }
            std::cout << info.dump(2) << "\n";
            return kExitOk;
          }};
}

Command add_generate_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("generate", description_of("generate"));
  struct Options {
    std::string config, checkpoint, prompt;
    std::vector<std::string> overrides;
    int max_new_tokens = 64;
    double temperature = 1.0, top_p = 1.0;
    int top_k = 0;
    uint64_t seed = 0;
    bool no_kv_cache = false, json = false;
  };
  auto o = std::make_shared<Options>();
  auto* config_opt = app->add_option("--config", o->config,
                                     "Run config (YAML); weights from run.seed unless model.checkpoint");
  auto* ckpt_opt = app->add_option("--checkpoint", o->checkpoint,
                                   "Checkpoint folder (config.json + safetensors)");
  config_opt->excludes(ckpt_opt);
  app->add_option("--prompt", o->prompt, "Prompt text (bos is prepended)")->required();
  app->add_option("--max-new-tokens", o->max_new_tokens, "Tokens to generate at most")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--temperature", o->temperature, "0 = greedy")->check(CLI::NonNegativeNumber);
  app->add_option("--top-p", o->top_p, "Nucleus sampling mass in (0, 1]");
  app->add_option("--top-k", o->top_k, "Sample among the k most likely tokens; 0 = off");
  app->add_option("--seed", o->seed, "Sampling seed");
  app->add_flag("--no-kv-cache", o->no_kv_cache, "Recompute the whole prefix every step");
  app->add_flag("--json", o->json, "Print {text, token_ids, logprobs, finish_reason} as JSON");
  app->add_option("overrides", o->overrides, "Config overrides key=value (run.device=cuda)");
  return {app, [o] {
            if (o->config.empty() && o->checkpoint.empty()) {
              return fail("generate", "give --config or --checkpoint", kExitUsage);
            }
            auto source = resolve_source(o->config, o->checkpoint, o->overrides);
            if (!source.ok()) return fail_with_status("generate", source.status());
            const RunConfig& run = source->run;
            set_torch_threads(run.run.threads);
            auto policy = load_policy(run.model, run.run.seed, run.run.device);
            if (!policy.ok()) return fail_with_status("generate", policy.status());
            auto tokenizer = load_tokenizer(run.tokenizer, policy->config);
            if (!tokenizer.ok()) return fail_with_status("generate", tokenizer.status());

            policy::GenerateOptions options;
            options.max_new_tokens = o->max_new_tokens;
            options.sampling = {o->temperature, o->top_p, o->top_k};
            options.seed = o->seed;
            options.use_cache = !o->no_kv_cache;
            options.stop_ids = {(*tokenizer)->eos_id()};
            const std::vector<int32_t> prompt = (*tokenizer)->encode_prompt(o->prompt);

            policy->model->eval();
            auto result = policy::generate(*policy->model, {prompt}, options);
            if (!result.ok()) return fail_with_status("generate", result.status());
            const policy::Generation& g = (*result)[0];
            auto text = (*tokenizer)->decode(g.tokens);
            if (!text.ok()) return fail("generate", std::string(text.status().message()));
            if (o->json) {
              json out = {{"text", *text},
                          {"token_ids", g.tokens},
                          {"logprobs", g.logprobs},
                          {"finish_reason", g.finish_reason}};
              std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
            } else {
              std::cout << *text << "\n";
            }
            return kExitOk;
          }};
}

}  // namespace forge::rl::cli
