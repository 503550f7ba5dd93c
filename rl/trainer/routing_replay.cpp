#include "rl/trainer/routing_replay.h"

#include "absl/strings/str_cat.h"

namespace forge::rl {

absl::Status check_recorded_routing(const ScoredBatch& batch) {
  for (size_t i = 0; i < batch.routed_experts.size(); ++i) {
    const TokenSequence& s = batch.sequences[i];
    const size_t positions = s.prompt.size() + s.response.size() - 1;
    const size_t want = positions * static_cast<size_t>(batch.routing_layers * batch.routing_top_k);
    if (s.response.empty() || batch.routed_experts[i].size() != want) {
      return absl::FailedPreconditionError(
          absl::StrCat("row ", i, ": the rollout recorded ", batch.routed_experts[i].size(),
                       " expert ids for ", positions, " tokens x ", batch.routing_layers,
                       " MoE layers x top-", batch.routing_top_k));
    }
  }
  return absl::OkStatus();
}

std::vector<at::Tensor> recorded_routing(const ScoredBatch& batch,
                                         const std::vector<int64_t>& rows) {
  const int64_t layers = batch.routing_layers, k = batch.routing_top_k;
  int64_t m = 0;
  for (int64_t r : rows) m += sequence_length(batch.sequences[r]);
  std::vector<at::Tensor> out;
  for (int64_t l = 0; l < layers; ++l) out.push_back(at::full({m, k}, -1, at::kLong));  // [M, K]
  int64_t offset = 0;
  for (int64_t r : rows) {
    const std::vector<int32_t>& ids = batch.routed_experts[r];
    const int64_t positions = sequence_length(batch.sequences[r]) - 1;  // the last is not read
    for (int64_t l = 0; l < layers; ++l) {
      int64_t* dst = out[l].data_ptr<int64_t>() + offset * k;
      for (int64_t p = 0; p < positions; ++p) {
        for (int64_t j = 0; j < k; ++j) dst[p * k + j] = ids[(p * layers + l) * k + j];
      }
    }
    offset += positions + 1;
  }
  return out;
}

void RoutingAgreement::add(const std::vector<at::Tensor>& recorded,
                           const std::vector<at::Tensor>& chosen) {
  for (size_t l = 0; l < recorded.size() && l < chosen.size(); ++l) {
    const at::Tensor rec = recorded[l];              // [M, K]
    const at::Tensor used = chosen[l].to(at::kCPU);  // [M, K]
    TORCH_CHECK(rec.sizes() == used.sizes(), "routing agreement: recorded ", rec.sizes(),
                " vs chosen ", used.sizes());
    const at::Tensor valid = rec.select(1, 0).ge(0);                                        // [M]
    const at::Tensor same = std::get<0>(rec.sort(1)).eq(std::get<0>(used.sort(1))).all(1);  // [M]
    matches += same.logical_and(valid).sum().item<double>();
    total += valid.sum().item<double>();
  }
}

}  // namespace forge::rl
