// Model families: the architectures Forge runs, named by config.json's `model_type`, and what each
// one means for the model's structure. Resolved once when a config is read (ModelConfig::family);
// modules branch on the enums below, never on strings.
//
//   model_type   | released models                        | attention              | feed-forward
//   deepseek_v2  | DeepSeek-V2, V2-Lite                   | MLA                    | DeepSeekMoE, softmax router
//   deepseek_v3  | DeepSeek-V3, R1, Moonlight             | MLA                    | DeepSeekMoE, sigmoid + noaux_tc
//   qwen2        | Qwen2.5, R1-Distill-Qwen               | GQA, q/k/v bias        | SwiGLU
//   llama        | Llama 3.x, R1-Distill-Llama            | GQA (attention_bias)   | SwiGLU (mlp_bias)
//   qwen3        | Qwen3 dense                            | GQA, q/k RMSNorm       | SwiGLU
//   qwen3_moe    | Qwen3-MoE (30B-A3B, 235B-A22B)         | GQA, q/k RMSNorm       | softmax top-k MoE
// Thread-safety: pure functions over constant tables.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::policy {

enum class Family { kDeepseekV2, kDeepseekV3, kQwen2, kLlama, kQwen3, kQwen3Moe };

// MLA caches one latent per token per layer; GQA caches each key/value head's K and V.
enum class AttentionKind { kMla, kGqa };

// How a MoE layer turns router scores into combine weights (the released code of each family):
//   kDeepseekV2: softmax; renormalise the top-k when norm_topk_prob (and k > 1), otherwise scale
//                by routed_scaling_factor (DeepSeek-V2's modeling_deepseek.py);
//   kDeepseekV3: scoring_func; renormalise when norm_topk_prob (and k > 1), then always scale;
//   kQwen3Moe:   softmax; renormalise when norm_topk_prob (any k); no scaling.
enum class RouterKind { kDeepseekV2, kDeepseekV3, kQwen3Moe };

struct FamilyTraits {
  Family family;
  const char* model_type;    // config.json "model_type"
  const char* architecture;  // config.json "architectures"[0]
  AttentionKind attention;
  RouterKind router;         // meaningful only when the config has routed experts
  bool qkv_bias;             // q/k/v projections always carry a bias (Qwen2)
  bool qk_norm;              // per-head RMSNorm of q and k before RoPE (Qwen3)
  bool attention_bias_key;   // `attention_bias` adds biases to q/k/v/o (Llama, Qwen3)
};

const FamilyTraits& traits_of(Family family);

// "deepseek_v3" -> Family; the error lists the supported model types.
absl::StatusOr<Family> family_from_model_type(const std::string& model_type);

const std::vector<Family>& all_families();

}  // namespace forge::policy
