#include "rl/trainer/score_stage.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "rl/grpo/advantages.h"
#include "rl/trainer/routing_replay.h"

namespace forge::rl {

ScoreSettings ScoreSettings::from_config(const RunConfig& config, int32_t pad_id) {
  ScoreSettings s;
  s.estimator = config.trainer.adv_estimator;
  s.adv_eps = config.trainer.adv_eps;
  s.overlong_filter = config.trainer.overlong_filter;
  s.pad_id = pad_id;
  return s;
}

absl::StatusOr<ScoredBatch> score(const CollectedBatch& batch, const ScoreSettings& settings,
                                  Collective& collective) {
  ScoredBatch out;
  out.group_index = batch.kept_index;
  out.total_groups = batch.kept_total;
  std::vector<double> rewards;
  std::vector<int64_t> group_ids;
  std::vector<bool> truncated;
  std::vector<const Sample*> samples;
  out.rows_of_group.resize(batch.kept.size());
  for (size_t g = 0; g < batch.kept.size(); ++g) {
    const PromptGroup& group = batch.groups[batch.kept[g]];
    for (const Sample& s : group.samples) {
      if (!s.grade.error.empty()) continue;  // no verdict: no part in the group
      out.rows_of_group[g].push_back(static_cast<int64_t>(out.sequences.size()));
      out.sequences.push_back(TokenSequence{group.prompt_ids, s.completion.token_ids});
      rewards.push_back(s.grade.reward);
      group_ids.push_back(static_cast<int64_t>(g));
      truncated.push_back(s.completion.finish_reason == "length");
      samples.push_back(&s);
      const std::vector<int64_t>& v = s.completion.token_versions;
      out.oldest_version.push_back(v.empty() ? s.completion.policy_version
                                             : *std::min_element(v.begin(), v.end()));
    }
  }
  const int64_t n = static_cast<int64_t>(out.sequences.size());
  std::vector<const TokenSequence*> all;
  for (const TokenSequence& s : out.sequences) all.push_back(&s);
  const PackedBatch packed = pack_sequences(all, settings.pad_id);
  const int64_t columns = packed.response_ids.size(1);

  out.response_mask = packed.response_mask;        // [N, C]
  out.loss_mask = packed.response_mask.clone();    // [N, C]
  if (settings.overlong_filter) {
    for (int64_t i = 0; i < n; ++i) {
      if (truncated[i]) out.loss_mask[i].zero_();
    }
  }
  // The batch-level estimators whiten over the job's tokens: sums over every rank.
  SumOverRanks sum = nullptr;
  if (collective.world_size() > 1) {
    sum = [&collective](at::Tensor t) {
      std::vector<at::Tensor> v = {t};
      const absl::Status st = collective.all_reduce_sum(v);
      TORCH_CHECK(st.ok(), std::string(st.message()));
      return v[0];
    };
  }
  out.advantages = compute_advantages(
      settings.estimator, at::tensor(rewards, at::kDouble).to(at::kFloat),
      at::tensor(group_ids, at::kLong), packed.response_mask, settings.adv_eps, sum);  // [N, C]

  out.rollout_log_probs = at::zeros({n, columns}, at::kFloat);  // [N, C]
  auto acc = out.rollout_log_probs.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<float>& lp = samples[i]->completion.logprobs;
    for (size_t j = 0; j < lp.size() && static_cast<int64_t>(j) < columns; ++j) acc[i][j] = lp[j];
  }
  // The routing the rollout recorded, when every row has one.
  const bool routed = n > 0 && std::all_of(samples.begin(), samples.end(), [](const Sample* s) {
    return s->completion.routing_layers > 0;
  });
  if (routed) {
    out.routing_layers = samples[0]->completion.routing_layers;
    out.routing_top_k = samples[0]->completion.routing_top_k;
    for (const Sample* s : samples) {
      if (s->completion.routing_layers != out.routing_layers ||
          s->completion.routing_top_k != out.routing_top_k) {
        return absl::FailedPreconditionError(
            "the rollout recorded routing of different shapes in one batch");
      }
      out.routed_experts.push_back(s->completion.routed_experts);
    }
    if (absl::Status st = check_recorded_routing(out); !st.ok()) return st;
  }
  return out;
}

}  // namespace forge::rl
