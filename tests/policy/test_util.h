// Shared helpers for the policy tests: small configs with every mechanism live, seeded tensors.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "policy/model_config.h"

namespace forge::policy::testing {

// The command that runs the Python references (hf_reference.py, hf_write_checkpoint.py): Debian's
// python3-torch through "/usr/bin/python3 -I -S" (by absolute path, isolated from user site
// packages and PYTHON* variables), or FORGE_REFERENCE_PYTHON's command on a host whose torch lives
// elsewhere (scripts/gpu-check.sh on the GPU host). Empty when neither is there.
inline std::string reference_python() {
  if (const char* env = std::getenv("FORGE_REFERENCE_PYTHON"); env != nullptr && *env != 0) {
    return env;
  }
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3 -I -S" : "";
}

// configs/models/tiny.json, the shipped ~4M-parameter config.
inline ModelConfig tiny_config() {
  auto c = ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) + "/configs/models/tiny.json");
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

// A very small DeepSeek-V3-style config: 3 layers (first dense), MLA with q/kv ranks, 8 experts in
// 2 groups (top-1 group), top-2 + 1 shared, sigmoid + noaux_tc, YaRN with mscale.
inline ModelConfig micro_config() {
  ModelConfig c;
  c.vocab_size = 48;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.moe_intermediate_size = 16;
  c.num_hidden_layers = 3;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 2;
  c.q_lora_rank = 16;
  c.kv_lora_rank = 8;
  c.qk_nope_head_dim = 8;
  c.qk_rope_head_dim = 8;
  c.v_head_dim = 8;
  c.first_k_dense_replace = 1;
  c.n_routed_experts = 8;
  c.num_experts_per_tok = 2;
  c.n_shared_experts = 1;
  c.n_group = 2;
  c.topk_group = 1;
  c.scoring_func = "sigmoid";
  c.topk_method = "noaux_tc";
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 2.5;
  c.rope_theta = 10000.0;
  RopeScaling rs;
  rs.factor = 4.0;
  rs.original_max_position_embeddings = 128;
  rs.mscale = 0.8;
  rs.mscale_all_dim = 0.7;
  c.rope_scaling = rs;
  c.max_position_embeddings = 512;
  c.initializer_range = 0.2;  // large enough that attention and routing are far from uniform
  c.bos_token_id = 1;
  c.eos_token_id = 2;
  return c;
}

// configs/models/<file> (a released model's config.json) with `overrides` applied and validated.
inline ModelConfig published_config(const std::string& file, const nlohmann::json& overrides = {}) {
  auto c = ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) + "/configs/models/" + file);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return ModelConfig{};
  if (!overrides.is_null()) {
    absl::Status st = c->apply_overrides(overrides);
    EXPECT_TRUE(st.ok()) << st;
  }
  absl::Status st = c->validate();
  EXPECT_TRUE(st.ok()) << file << ": " << st;
  return *c;
}

// Small GQA configs of each GQA family, from the published files: a few layers and experts, every
// optional piece on (biases, q/k norms, an mlp_only layer, llama3 rope scaling).
inline ModelConfig small_qwen3_moe() {
  return published_config("qwen3-30b-a3b.json",
                          {{"num_hidden_layers", 3}, {"hidden_size", 64}, {"intermediate_size", 96},
                           {"moe_intermediate_size", 32}, {"num_attention_heads", 4},
                           {"num_key_value_heads", 2}, {"head_dim", 16}, {"num_experts", 8},
                           {"num_experts_per_tok", 2}, {"mlp_only_layers", {1}},
                           {"vocab_size", 96}, {"bos_token_id", 0}, {"eos_token_id", 1},
                           {"max_position_embeddings", 256}, {"initializer_range", 0.2}});
}
inline ModelConfig small_llama() {
  return published_config("deepseek-r1-distill-llama-8b.json",
                          {{"num_hidden_layers", 2}, {"hidden_size", 64}, {"intermediate_size", 96},
                           {"num_attention_heads", 4}, {"num_key_value_heads", 1},
                           {"vocab_size", 96}, {"bos_token_id", 0}, {"eos_token_id", 1},
                           {"attention_bias", true}, {"mlp_bias", true},
                           {"max_position_embeddings", 256}, {"initializer_range", 0.2}});
}
inline ModelConfig small_qwen2() {
  return published_config("deepseek-r1-distill-qwen-1.5b.json",
                          {{"num_hidden_layers", 2}, {"hidden_size", 48}, {"intermediate_size", 64},
                           {"num_attention_heads", 6}, {"num_key_value_heads", 2},
                           {"vocab_size", 96}, {"bos_token_id", 0}, {"eos_token_id", 1},
                           {"max_position_embeddings", 256}, {"initializer_range", 0.2}});
}

inline at::Generator generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

inline at::Tensor randn(at::IntArrayRef shape, uint64_t seed, double std = 1.0) {
  at::Tensor t = at::empty(shape, at::kFloat);
  t.normal_(0.0, std, generator(seed));
  return t;
}

inline at::Tensor randint(int64_t high, at::IntArrayRef shape, uint64_t seed) {
  at::Tensor t = at::empty(shape, at::kLong);
  t.random_(0, high, generator(seed));
  return t;
}

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// Fills every parameter of `m` from normal(0, std) with a seeded generator (norms stay random too,
// around 1, so they are exercised).
template <typename Module>
void init_module(Module& m, uint64_t seed, double std = 0.2) {
  at::NoGradGuard no_grad;
  at::Generator gen = generator(seed);
  for (auto& p : m->parameters()) {
    at::Tensor v = at::empty(p.sizes(), at::kFloat);
    v.normal_(0.0, std, gen);
    p.copy_(v);
  }
}

}  // namespace forge::policy::testing
