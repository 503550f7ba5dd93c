#include "policy/moe.h"

#include <algorithm>
#include <limits>

#include <ATen/core/grad_mode.h>

namespace forge::policy {
namespace {

// ModelConfig::validate() admits exactly these names.
MoeGateImpl::TopkMethod topk_method_of(const std::string& name) {
  if (name == "noaux_tc") return MoeGateImpl::TopkMethod::kNoauxTc;
  if (name == "group_limited_greedy") return MoeGateImpl::TopkMethod::kGroupLimitedGreedy;
  return MoeGateImpl::TopkMethod::kGreedy;
}

}  // namespace

MoeGateImpl::MoeGateImpl(const ModelConfig& c)
    : n_experts_(c.n_routed_experts),
      top_k_(c.num_experts_per_tok),
      n_group_(c.n_group),
      topk_group_(c.topk_group),
      sigmoid_(c.scoring_func == "sigmoid"),
      norm_topk_prob_(c.norm_topk_prob),
      topk_method_(topk_method_of(c.topk_method)),
      router_(c.traits().router),
      routed_scaling_factor_(c.routed_scaling_factor) {
  weight = register_parameter("weight", at::empty({n_experts_, c.hidden_size}));
  if (topk_method_ == TopkMethod::kNoauxTc) {
    e_score_correction_bias =
        register_buffer("e_score_correction_bias", at::zeros({n_experts_}, at::kFloat));
  }
}

Routing MoeGateImpl::forward(const at::Tensor& x, const at::Tensor& forced) {
  const int64_t n = x.size(0);
  at::Tensor logits = at::linear(x.to(at::kFloat), weight.to(at::kFloat));    // [N, E]
  at::Tensor scores = sigmoid_ ? logits.sigmoid() : logits.softmax(-1);        // [N, E]
  at::Tensor choice = scores;                                                  // [N, E]
  if (e_score_correction_bias.defined()) {
    choice = scores + e_score_correction_bias.to(at::kFloat);                  // eq. (16)
  }
  const bool grouped = topk_method_ != TopkMethod::kGreedy && n_group_ > 1;
  if (grouped) {
    const int64_t per_group = n_experts_ / n_group_;
    at::Tensor by_group = choice.view({n, n_group_, per_group});               // [N, G, E/G]
    at::Tensor group_scores =
        topk_method_ == TopkMethod::kNoauxTc
            ? std::get<0>(by_group.topk(std::min<int64_t>(2, per_group), -1)).sum(-1)  // [N, G]
            : std::get<0>(by_group.max(-1));                                   // [N, G]
    at::Tensor group_idx = std::get<1>(group_scores.topk(topk_group_, -1));    // [N, topk_group]
    at::Tensor keep = at::zeros({n, n_group_}, x.options().dtype(at::kBool))
                          .scatter_(1, group_idx, true);                       // [N, G]
    keep = keep.unsqueeze(-1).expand({n, n_group_, per_group}).reshape({n, n_experts_});  // [N, E]
    choice = choice.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
  }
  at::Tensor topk_idx = std::get<1>(choice.topk(top_k_, -1));                 // [N, K]
  if (forced.defined()) {
    TORCH_CHECK(forced.dim() == 2 && forced.size(0) == n && forced.size(1) == top_k_,
                "replayed routing must be [", n, ", ", top_k_, "], got ", forced.sizes());
    const at::Tensor f = forced.to(topk_idx.device(), at::kLong);              // [N, K]
    TORCH_CHECK(f.lt(n_experts_).all().item<bool>(), "replayed expert id out of range");
    topk_idx = at::where(f.select(1, 0).ge(0).unsqueeze(1), f, topk_idx);     // [N, K] R3
  }
  at::Tensor topk_weight = scores.gather(1, topk_idx);                         // [N, K] no bias
  switch (router_) {
    case RouterKind::kDeepseekV3:
      if (top_k_ > 1 && norm_topk_prob_) {
        topk_weight = topk_weight / (topk_weight.sum(-1, /*keepdim=*/true) + 1e-20);
      }
      topk_weight = topk_weight * routed_scaling_factor_;
      break;
    case RouterKind::kDeepseekV2:
      if (top_k_ > 1 && norm_topk_prob_) {
        topk_weight = topk_weight / (topk_weight.sum(-1, /*keepdim=*/true) + 1e-20);
      } else {
        topk_weight = topk_weight * routed_scaling_factor_;
      }
      break;
    case RouterKind::kQwen3Moe:
      if (norm_topk_prob_) topk_weight = topk_weight / topk_weight.sum(-1, /*keepdim=*/true);
      break;
  }
  return {topk_idx, topk_weight, scores};
}

MoeImpl::MoeImpl(const ModelConfig& c)
    : n_experts_(c.n_routed_experts),
      top_k_(c.num_experts_per_tok),
      aux_alpha_(c.aux_loss_alpha),
      seq_aux_(c.seq_aux) {
  gate = register_module("gate", MoeGate(c));
  experts = register_module("experts", torch::nn::ModuleList());
  for (int j = 0; j < c.n_routed_experts; ++j) {
    expert_list_.push_back(Mlp(c.hidden_size, c.moe_intermediate_size));
    experts->push_back(expert_list_.back());
  }
  if (c.n_shared_experts > 0) {
    shared_experts = register_module(
        "shared_experts", Mlp(c.hidden_size, c.moe_intermediate_size * c.n_shared_experts));
  }
  last_load_ = at::zeros({n_experts_}, at::kLong);
  pending_load_ = at::zeros({n_experts_}, at::kLong);
}

at::Tensor MoeImpl::dispatch(const at::Tensor& x, const Routing& routing) {
  // Sort the (token, slot) pairs by expert so each expert sees one contiguous block: one gather
  // before the experts and one index_add_ after, no per-token loops.
  at::Tensor flat_expert = routing.topk_idx.reshape({-1});                          // [M*K]
  at::Tensor order = std::get<1>(at::sort(flat_expert, c10::optional<bool>(true), 0));  // [M*K]
  const int64_t m = x.size(0);
  at::Tensor token_of = at::arange(m, order.options()).unsqueeze(1).expand({m, top_k_})
                            .reshape({-1}).index_select(0, order);                  // [M*K]
  at::Tensor weight_of = routing.topk_weight.reshape({-1}).index_select(0, order)  //
                             .to(x.scalar_type()).unsqueeze(1);                     // [M*K, 1]
  at::Tensor x_sorted = x.index_select(0, token_of);                                // [M*K, D]
  at::Tensor counts = at::bincount(flat_expert, {}, n_experts_).cpu();              // [E]
  const int64_t* count = counts.data_ptr<int64_t>();

  std::vector<at::Tensor> outputs;
  int64_t offset = 0;
  for (int64_t e = 0; e < n_experts_; ++e) {
    if (count[e] == 0) continue;
    at::Tensor rows = x_sorted.narrow(0, offset, count[e]);                         // [n_e, D]
    outputs.push_back(expert_list_[e](rows) * weight_of.narrow(0, offset, count[e]));
    offset += count[e];
  }
  at::Tensor y = at::cat(outputs, 0);                                               // [M*K, D]
  return at::zeros_like(x).index_add_(0, token_of, y);                              // [M, D]
}

at::Tensor MoeImpl::sequence_aux_loss(const Routing& routing, const at::Tensor& seq_of,
                                      int64_t n_seq) {
  // eqs. (17)-(20): f_i = E / (K T) * #tokens choosing i, P_i = mean_t s'_i,t with s' = s / sum s.
  at::Tensor s_norm = routing.scores / routing.scores.sum(-1, /*keepdim=*/true);    // [M, E]
  at::Tensor chosen = at::zeros_like(routing.scores)
                          .scatter_(1, routing.topk_idx, 1.0);                      // [M, E]
  auto opts = routing.scores.options();
  at::Tensor tokens = at::zeros({n_seq}, opts).index_add_(
      0, seq_of, at::ones({seq_of.size(0)}, opts));                                 // [S]
  at::Tensor p = at::zeros({n_seq, n_experts_}, opts).index_add_(0, seq_of, s_norm);    // [S, E]
  at::Tensor f = at::zeros({n_seq, n_experts_}, opts).index_add_(0, seq_of, chosen);    // [S, E]
  at::Tensor denom = tokens.clamp_min(1.0).unsqueeze(1);                           // [S, 1]
  f = f * (static_cast<double>(n_experts_) / top_k_) / denom;
  p = p / denom;
  at::Tensor per_seq = (f * p).sum(1);                                              // [S]
  at::Tensor present = tokens.gt(0).to(at::kFloat);                                 // [S]
  return aux_alpha_ * (per_seq * present).sum() / present.sum().clamp_min(1.0);
}

MoeOutput MoeImpl::forward(const at::Tensor& x, const at::Tensor& segments) {
  const int64_t b = x.size(0), t = x.size(1), d = x.size(2);
  at::Tensor flat = x.reshape({b * t, d});                                          // [B*T, D]
  at::Tensor rows;                                                                  // [M] int64
  at::Tensor tokens = flat;                                                         // [M, D]
  if (segments.defined()) {
    rows = segments.ne(0).reshape({-1}).nonzero().squeeze(1);
    tokens = flat.index_select(0, rows);
  }
  MoeOutput result;
  if (tokens.size(0) == 0) {
    result.out = at::zeros_like(x);
    last_load_.zero_();
    last_routing_ = at::zeros({0, top_k_}, at::kLong);
    replay_ = at::Tensor();
    return result;
  }
  const at::Tensor replay = std::move(replay_);
  replay_ = at::Tensor();
  Routing routing = gate(tokens, replay);
  last_routing_ = routing.topk_idx;                                                 // [M, K]
  at::Tensor y = dispatch(tokens, routing);                                         // [M, D]
  if (shared_experts) y = y + shared_experts(tokens);

  {
    at::NoGradGuard no_grad;
    last_load_ = at::bincount(routing.topk_idx.reshape({-1}), {}, n_experts_).cpu();
    if (is_training()) pending_load_ += last_load_;
  }
  if (aux_alpha_ > 0 && at::GradMode::is_enabled()) {
    at::Tensor seq_of;
    int64_t n_seq = 1;
    if (seq_aux_) {
      // Sequence of each token: row * S + segment id, S = the largest id + 1.
      const at::Tensor ids = segments.defined() ? segments.to(at::kLong)            // [B, T]
                                                : at::zeros({b, t}, x.options().dtype(at::kLong));
      const int64_t per_row = ids.max().item<int64_t>() + 1;
      seq_of = (at::arange(b, ids.options()).unsqueeze(1) * per_row + ids).reshape({-1});  // [B*T]
      if (rows.defined()) seq_of = seq_of.index_select(0, rows);                   // [M]
      n_seq = b * per_row;
    } else {
      seq_of = at::zeros({tokens.size(0)}, x.options().dtype(at::kLong));
    }
    result.aux_loss = sequence_aux_loss(routing, seq_of, n_seq);
  }
  if (rows.defined()) {
    result.out = at::zeros_like(flat).index_copy_(0, rows, y).view({b, t, d});
  } else {
    result.out = y.view({b, t, d});
  }
  return result;
}

void MoeImpl::update_bias(double gamma) {
  at::Tensor load = pending_load_.to(at::kFloat);
  pending_load_.zero_();
  at::Tensor& bias = gate->e_score_correction_bias;
  if (!bias.defined() || gamma == 0.0 || load.sum().item<float>() == 0.0f) return;
  at::NoGradGuard no_grad;
  at::Tensor step = gamma * at::sign(load.mean() - load);                           // [E]
  bias.add_(step.to(bias.device()));
}

double load_imbalance(const at::Tensor& load) {
  at::Tensor l = load.to(at::kDouble);
  const double mean = l.mean().item<double>();
  if (mean <= 0) return 0.0;
  return l.max().item<double>() / mean;
}

}  // namespace forge::policy
