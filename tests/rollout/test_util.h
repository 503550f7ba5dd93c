// Shared pieces of the rollout tests: a small policy (configs/models/tiny.json with 2 layers), an
// engine over it, and the reference each completion is checked against: policy::generate over the
// prompt alone with the sample's seed (an independent, non-continuous generation loop).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policy/generate.h"
#include "policy/model.h"
#include "policy/tokenizer.h"
#include "rollout/engine.h"
#include "rollout/request.h"

namespace forge::rollout::testing {

inline constexpr uint64_t kSeedA = 11;  // two very different weight sets
inline constexpr uint64_t kSeedB = 22;

policy::ModelConfig test_config();
// A shrunk Qwen3-MoE (configs/models/qwen3-30b-a3b.json: GQA attention, whose cache rows are keys
// and values rather than MLA latents; q/k norms; 2 key/value heads for 4 query heads; an MoE layer
// and a dense one) over the byte tokenizer's vocabulary.
policy::ModelConfig shrunk_qwen3_moe_config();
policy::Model test_model(uint64_t seed);
std::shared_ptr<const policy::Tokenizer> byte_tokenizer();
std::unique_ptr<Engine> test_engine(uint64_t seed, const EngineOptions& options = {});

// `count` prompts of different lengths (3..), deterministic.
std::vector<std::vector<int32_t>> test_prompts(int count, int first_length = 3);

// policy::generate of `prompt` alone, with sample_seed(s.seed, prompt_index, sample_index), stopping
// at eos, up to s.max_new_tokens.
policy::Generation reference(policy::ModelImpl& model, const std::vector<int32_t>& prompt,
                             const SamplingOptions& s, int64_t prompt_index, int sample_index);

// Same tokens and finish reason as the reference; logprobs within 1e-4 (float rounding of batched
// kernels). `prompts` are the request's prompts indexed by prompt_index - first_prompt_index.
void expect_matches_reference(const Completion& c, policy::ModelImpl& model,
                              const GenerationRequest& request);

// The YAML of a run config whose policy equals test_model(seed) (for `forge rollout-worker`).
std::string worker_config_yaml(uint64_t seed);

}  // namespace forge::rollout::testing
