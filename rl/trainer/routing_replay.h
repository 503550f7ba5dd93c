// Routing replay (R3) and moe/routing_agreement in the GRPO update. The rollout engine records the
// experts every MoE layer routed each token to (rollout::Completion::routed_experts: the prompt and
// every generated token but the last); score() keeps them per row. recorded_routing() lays them out
// as the policy's forward over rows packed one per row (pack_sequences) routes its tokens, so
// ModelImpl::replay_routing() can force them (trainer.routing_replay) and RoutingAgreement can
// compare them with what a forward chose: the share of (token, MoE layer) pairs where the trainer
// picked the rollout's set of experts (1.0 under replay, by construction).
// Thread-safety: plain functions and a plain tally.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "rl/trainer/step_batch.h"

namespace forge::rl {

// FailedPrecondition naming the row when a recorded routing does not fit its row's tokens
// ((prompt + response - 1) x layers x top_k ids) or the rows disagree on layers / top_k.
absl::Status check_recorded_routing(const ScoredBatch& batch);

// Per MoE layer [M, K] int64: rows `rows` of `batch`, each row's prompt + response tokens in order
// (M = their sum); the last token of each row, which the rollout never read, is -1 (routes freely).
std::vector<at::Tensor> recorded_routing(const ScoredBatch& batch,
                                         const std::vector<int64_t>& rows);

struct RoutingAgreement {
  double matches = 0;  // (token, layer) pairs where the forward chose the recorded set of experts
  double total = 0;    // recorded (token, layer) pairs

  // `recorded` from recorded_routing(), `chosen` = ModelImpl::last_routing() of a forward over the
  // same rows.
  void add(const std::vector<at::Tensor>& recorded, const std::vector<at::Tensor>& chosen);
};

}  // namespace forge::rl
