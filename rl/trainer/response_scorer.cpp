#include "rl/trainer/response_scorer.h"

#include "policy/log_probs.h"

namespace forge::rl {

ResponseScores score_responses(policy::ModelImpl& model, const PackedBatch& batch,
                               double temperature, bool with_entropy) {
  const at::Device device = model.device();
  const at::Tensor ids = batch.input_ids.to(device);
  const at::Tensor mask = batch.response_mask.to(device);
  policy::ForwardOutput out = model.forward(ids, batch.attention_mask.to(device));  // [n, T, V]
  const int64_t vocab = out.logits.size(2);
  const at::Tensor index =
      batch.logit_index.to(device).unsqueeze(-1).expand({-1, -1, vocab});             // [n, C, V]
  const at::Tensor logits =
      policy::temperature_scaled(out.logits.gather(1, index), temperature);            // [n, C, V]
  ResponseScores scores;
  scores.log_probs = policy::token_log_probs(logits, batch.response_ids.to(device), mask);  // [n, C]
  if (with_entropy) {
    const at::Tensor logp = at::log_softmax(logits, -1);                              // [n, C, V]
    scores.entropy = -(logp.exp() * logp).sum(-1) * mask;                             // [n, C]
  }
  scores.aux_loss = out.aux_loss;
  return scores;
}

}  // namespace forge::rl
