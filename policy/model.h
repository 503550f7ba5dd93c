// The policy: a causal LM of one of the families of model_family.h, whose module tree equals
// Hugging Face's (DeepseekV3ForCausalLM, Qwen3MoeForCausalLM, LlamaForCausalLM, ...), so
// named_tensors() are the checkpoint names:
//   model.embed_tokens.weight
//   model.layers.{i}.input_layernorm.weight, model.layers.{i}.post_attention_layernorm.weight
//   model.layers.{i}.self_attn.{q_a_proj,q_a_layernorm,q_b_proj | q_proj, kv_a_proj_with_mqa,
//                               kv_a_layernorm, kv_b_proj, o_proj}.weight          (MLA)
//   model.layers.{i}.self_attn.{q_proj,k_proj,v_proj,o_proj}.{weight,bias?},
//   model.layers.{i}.self_attn.{q_norm,k_norm}.weight (Qwen3)                     (GQA)
//   model.layers.{i}.mlp.{gate_proj,up_proj,down_proj}.{weight,bias?}             (dense layers)
//   model.layers.{i}.mlp.gate.weight, model.layers.{i}.mlp.gate.e_score_correction_bias (buffer),
//   model.layers.{i}.mlp.experts.{j}.{gate,up,down}_proj.weight,
//   model.layers.{i}.mlp.shared_experts.{gate,up,down}_proj.weight                  (MoE layers)
//   model.norm.weight, lm_head.weight (absent when tie_word_embeddings)
//
// Three ways to run it:
//  * forward(): training / scoring over a right-padded batch with naive MLA -> fp32 logits, the
//    auxiliary loss, and per-layer expert load; forward_packed() the same over rows that each hold
//    several documents (SFT packing);
//  * prefill() + decode_step(): generation over a KvCache (absorbed MLA, or GQA over cached K/V). decode_step takes
//    one token for each of many slots of different lengths, so a rollout engine can batch
//    continuously (sequences join with prefill and leave with cache.free between steps);
//  * last_logits(): the next-token logits of a padded batch by recomputing everything (no cache).
//
// Limits of the cache path: a slot is filled by one prefill (it must be empty; no chunked prefill,
// no prefix sharing between slots) and then grows one token per decode_step up to the cache's
// max_seq_len; the step's attention spans the longest slot in the batch, so very uneven lengths
// waste some work on the short ones.
//
// Batch independence: every row's result depends only on its own tokens, except for float
// rounding (matrix kernels may sum in a different order for a different batch shape; measured
// differences are ~1e-6 on logits). Padding never leaks: masked attention weights are exactly 0 and
// padding rows are neither routed nor counted as expert load.
//
// Weights are initialised deterministically from a seed (normal(0, initializer_range) for every
// matrix, 1 for norms, 0 for projection biases and routing biases); the same seed gives the same
// weights. Parameters are fp32 or bf16 (create_model, `model.dtype`); routing biases stay fp32 and
// logits are always returned in fp32.
// Thread-safety: not thread-safe; use one Model per thread or serialise calls.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "absl/status/statusor.h"
#include "policy/decoder_layer.h"
#include "policy/kv_cache.h"
#include "policy/layers.h"
#include "policy/model_config.h"

namespace forge::policy {

// Hugging Face's DeepseekV3Model / Qwen3Model / LlamaModel: registered as "model" inside ModelImpl.
class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(const ModelConfig& config);
  Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  std::vector<DecoderLayer> layer_list;  // the same layers, typed
};
TORCH_MODULE(Transformer);

struct ForwardOutput {
  at::Tensor logits;    // [B, T, V] fp32
  at::Tensor aux_loss;  // scalar fp32: sum over MoE layers of the sequence-wise aux loss (0 if off)
};

struct ExpertLoad {
  int layer = 0;     // index in model.layers
  at::Tensor load;   // [E] int64 on the CPU: tokens routed to each expert by the last forward
};

class ModelImpl : public torch::nn::Module {
 public:
  // Builds the model for a config that passes validate() (TORCH_CHECKed) and initialises it from
  // `seed`; with initialise false the weights are left unset (to be loaded). Use create_model() for
  // a Status instead of an exception.
  explicit ModelImpl(const ModelConfig& config, uint64_t seed = 0, bool initialise = true);

  const ModelConfig& config() const { return config_; }

  // Re-initialises every parameter and buffer from `seed` (on the CPU, then copied to the device).
  void init_weights(uint64_t seed);

  at::ScalarType dtype() const { return model->embed_tokens->weight.scalar_type(); }

  // input_ids [B, T] int64; attention_mask [B, T] (any dtype, nonzero = real token, right padding:
  // each row is 1...1 0...0) or undefined for none. Positions are 0..T-1. Logits at padding
  // positions are meaningless.
  ForwardOutput forward(const at::Tensor& input_ids, const at::Tensor& attention_mask = {});

  // Packed documents: input_ids [B, T] int64; segments [B, T] int64 numbers each row's documents
  // 1, 2, 3, ... in order (consecutive tokens of a document share its number), then 0 for the
  // padding at the row's end. Each document gets positions 0, 1, ... and attends only within
  // itself, so its logits equal forward() on the document alone up to float rounding; the
  // sequence-wise aux loss counts each document as a sequence. TORCH_CHECKs the layout.
  ForwardOutput forward_packed(const at::Tensor& input_ids, const at::Tensor& segments);

  // Next-token logits [B, V] fp32 at each row's last real token, recomputing the whole prefix.
  at::Tensor last_logits(const at::Tensor& input_ids, const at::Tensor& attention_mask = {});

  // Writes the cache rows of input_ids [B, T] (right-padded by attention_mask as in forward) into
  // `slots` [B] — each allocated and empty — and returns the logits [B, V] fp32 that follow each
  // row's last real token. Runs without autograd. Each row needs 1..cache.max_seq_len() tokens.
  at::Tensor prefill(KvCache& cache, const at::Tensor& input_ids,
                     const at::Tensor& attention_mask, const std::vector<int>& slots);

  // One decoding step (absorbed MLA or GQA): appends tokens[b] (int64 [B]) to slot slots[b] (distinct,
  // allocated, not full) at position cache.length(slots[b]) and returns the logits [B, V] fp32 for
  // the next token of each. Runs without autograd.
  at::Tensor decode_step(KvCache& cache, const at::Tensor& tokens,
                         const std::vector<int>& slots);

  // Per MoE layer, the expert load of the last forward / prefill / decode_step.
  std::vector<ExpertLoad> expert_load() const;

  // Routing replay (moe.h): per MoE layer, in layer order, the experts the last forward / prefill /
  // decode_step chose, [M, K] int64 with one row per real token (row-major over the batch; padding
  // has no row). replay_routing() gives the next forward-like call those experts instead (same
  // layout; a row of -1s routes as usual); one tensor per MoE layer.
  std::vector<at::Tensor> last_routing() const;
  void replay_routing(const std::vector<at::Tensor>& per_moe_layer);

  // Aux-loss-free balancing (DeepSeek-V3 §2.1.2): for every MoE layer,
  // b_i += gamma * sign(mean load - load_i) over the load of the training-mode forwards since the
  // last call; call it after each optimizer step. gamma == 0 freezes the biases.
  void update_routing_bias(double gamma);
  // The load update_routing_bias() will use, per MoE layer ([E] int64 each): handles to the
  // model's own tensors, so a data-parallel trainer can sum them over its ranks in place first.
  std::vector<at::Tensor> pending_expert_loads() const;

  // Every parameter and the routing-bias buffers, by Hugging Face name, in a fixed order. The
  // tensors alias the model's storage (copy_ into them under NoGradGuard to sync weights).
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;

  at::Device device() const;

  Transformer model{nullptr};
  Linear lm_head{nullptr};  // null when tie_word_embeddings

 private:
  struct Hidden {
    at::Tensor hidden;    // [B, T, D] before the final norm
    at::Tensor aux_loss;  // scalar fp32
  };
  // positions [T] (every row) or [B, T]; segments as in DecoderLayerImpl::forward. `cache_rows`,
  // when given, receives each layer's [B, T, C].
  Hidden run_layers(const at::Tensor& input_ids, const at::Tensor& positions,
                    const at::Tensor& segments, std::vector<at::Tensor>* cache_rows);
  // Hidden states of a right-padded batch (positions 0..T-1).
  Hidden run_padded(const at::Tensor& input_ids, const at::Tensor& valid,
                    std::vector<at::Tensor>* cache_rows);
  at::Tensor head(const at::Tensor& hidden);  // final norm + lm_head -> fp32 logits
  at::Tensor valid_mask(const at::Tensor& input_ids, const at::Tensor& attention_mask) const;

  ModelConfig config_;
  at::Tensor inv_freq_;  // [rope_head_dim/2] fp32 CPU; not a checkpoint tensor
  double cos_sin_scale_ = 1.0;
};
TORCH_MODULE(Model);

// Validates `config` and builds a Model with `dtype` parameters, initialised from `seed` (or left
// unset for loading when initialise is false); the error names the bad key.
absl::StatusOr<Model> create_model(const ModelConfig& config, uint64_t seed, bool initialise = true,
                                   at::ScalarType dtype = at::kFloat);

}  // namespace forge::policy
