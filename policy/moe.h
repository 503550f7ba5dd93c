// Routed mixture of experts: DeepSeekMoE (DeepSeek-V3 §2.1.2) and Qwen3-MoE's sparse block,
// parameters named as in Hugging Face's DeepseekV3MoE / Qwen3MoeSparseMoeBlock:
//   gate.weight [E, D] and, with topk_method "noaux_tc", the fp32 buffer gate.e_score_correction_bias
//   [E]; experts.{j}.{gate,up,down}_proj; shared_experts.{gate,up,down}_proj (width
//   moe_intermediate_size * n_shared_experts; DeepSeek only).
//
// Routing of a token with hidden state u (all in fp32):
//   s = sigmoid(u W^T) or softmax(u W^T)                         (scoring_func)
//   choice = s + b with noaux_tc, else s                           (eq. 16: b only SELECTS experts)
//   group-limited (noaux_tc: group score = sum of its top-2 choices; group_limited_greedy: max):
//     keep the topk_group best of n_group groups; experts outside them cannot be chosen
//   chosen = top-K of choice; weight_i = s_i (never b), then by the family's RouterKind
//   (model_family.h): DeepSeek-V3 renormalises over the chosen experts when norm_topk_prob and
//   K > 1, then multiplies by routed_scaling_factor; DeepSeek-V2 renormalises in that case and
//   otherwise scales (its released code; transformers' port always scales and has no
//   norm_topk_prob, the same for every released V2 config, which all have norm_topk_prob false);
//   Qwen3-MoE renormalises when norm_topk_prob (any K) and never scales.
// Output = sum_i weight_i * expert_i(u) + shared_experts(u).
// Note: Hugging Face fills experts outside the kept groups with 0 before the top-K; here they get
// -inf, so they are never chosen even when a negative bias pushes kept scores below 0.
//
// Load balancing: the aux-loss-free bias update (eq. 16's b) via update_bias(gamma) after an optimizer
// step, plus the optional sequence-wise auxiliary loss (eqs. 17-20) when aux_loss_alpha > 0.
//
// Routing replay (R3, Ma et al. 2025): last_routing() is what the last forward chose per token, and
// replay_routing() makes the next forward use given experts instead of its own top-K; the combine
// weights are still this gate's affinities of those experts (renormalised, scaled), so the gate
// keeps its gradient.
// Thread-safety: not thread-safe (forward records expert load).
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "policy/layers.h"
#include "policy/model_config.h"

namespace forge::policy {

struct Routing {
  at::Tensor topk_idx;     // [N, K] int64: chosen experts
  at::Tensor topk_weight;  // [N, K] fp32: their combine weights (renormalised, scaled)
  at::Tensor scores;       // [N, E] fp32: affinities s (no bias)
};

class MoeGateImpl : public torch::nn::Module {
 public:
  // config.topk_method, resolved once: how experts are selected.
  enum class TopkMethod { kGreedy, kGroupLimitedGreedy, kNoauxTc };

  explicit MoeGateImpl(const ModelConfig& config);
  // x [N, D]; forced [N, K] int64 (optional): these experts instead of the top-K, except in rows
  // of -1s (they route as usual).
  Routing forward(const at::Tensor& x, const at::Tensor& forced = {});

  at::Tensor weight;                   // [E, D]
  at::Tensor e_score_correction_bias;  // [E] fp32 buffer; undefined unless topk_method == noaux_tc

 private:
  int64_t n_experts_, top_k_, n_group_, topk_group_;
  bool sigmoid_, norm_topk_prob_;
  TopkMethod topk_method_;
  RouterKind router_;
  double routed_scaling_factor_;
};
TORCH_MODULE(MoeGate);

struct MoeOutput {
  at::Tensor out;       // [B, T, D]; zero MLP contribution on padding rows
  at::Tensor aux_loss;  // scalar fp32, alpha * sequence-wise balance loss; undefined when off
};

class MoeImpl : public torch::nn::Module {
 public:
  explicit MoeImpl(const ModelConfig& config);

  // x [B, T, D]; segments [B, T] (bool or integer; 0 = padding, equal nonzero values in a row =
  // one sequence, as packed by Model::forward_packed) or undefined for one real sequence per row.
  // Padding rows are not routed and do not count as load. The aux loss is computed when
  // aux_loss_alpha > 0 and grad mode is on, per sequence; seq_aux false pools the whole batch.
  MoeOutput forward(const at::Tensor& x, const at::Tensor& segments);

  // Tokens routed to each expert by the last forward, [E] int64 on the CPU (each token counts once
  // per chosen expert).
  const at::Tensor& last_load() const { return last_load_; }
  // Load summed over the forwards run in training mode since the last update_bias().
  const at::Tensor& pending_load() const { return pending_load_; }
  // The experts the last forward chose, [M, K] int64: one row per routed (non-padding) token, in
  // row-major order of x.
  const at::Tensor& last_routing() const { return last_routing_; }
  // The next forward (only) routes its M tokens to topk_idx [M, K] int64 (rows as last_routing();
  // a row of -1s routes as usual). TORCH_CHECKs the shape then.
  void replay_routing(at::Tensor topk_idx) { replay_ = std::move(topk_idx); }

  // DeepSeek-V3's aux-loss-free balancing: b_i += gamma * sign(mean load - load_i) over the load
  // pending since the last call, then clears it. gamma == 0 freezes the bias (load still clears).
  // No-op without a bias (topk_method other than noaux_tc) or without pending tokens.
  void update_bias(double gamma);

  MoeGate gate{nullptr};
  torch::nn::ModuleList experts{nullptr};
  Mlp shared_experts{nullptr};  // null when n_shared_experts == 0

 private:
  // Sum over chosen experts of weight * expert(x) for rows x [M, D]. -> [M, D]
  at::Tensor dispatch(const at::Tensor& x, const Routing& routing);
  // alpha * sum_i f_i P_i averaged over sequences; seq_of [M] int64 numbers each row's sequence.
  at::Tensor sequence_aux_loss(const Routing& routing, const at::Tensor& seq_of, int64_t n_seq);

  std::vector<Mlp> expert_list_;
  int64_t n_experts_, top_k_;
  double aux_alpha_;
  bool seq_aux_;
  at::Tensor last_load_;     // [E] int64, CPU
  at::Tensor pending_load_;  // [E] int64, CPU
  at::Tensor last_routing_;  // [M, K] int64
  at::Tensor replay_;        // [M, K] int64 for the next forward; undefined: none
};
TORCH_MODULE(Moe);

// max load / mean load over experts (1 = perfectly balanced); 0 for no tokens.
double load_imbalance(const at::Tensor& load);

}  // namespace forge::policy
