#include "rl/trainer/update_stage.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <ATen/ATen.h>

#include "base/splitmix64.h"
#include "base/status_macros.h"
#include "rl/dist/data_parallel.h"
#include "rl/trainer/expert_load_tally.h"
#include "rl/trainer/response_scorer.h"

namespace forge::rl {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::vector<int64_t>> micro_batches(const std::vector<int64_t>& rows, int size) {
  std::vector<std::vector<int64_t>> out;
  for (size_t start = 0; start < rows.size(); start += static_cast<size_t>(size)) {
    out.emplace_back(rows.begin() + start,
                     rows.begin() + std::min(rows.size(), start + static_cast<size_t>(size)));
  }
  return out;
}

PackedBatch pack_rows(const ScoredBatch& batch, const std::vector<int64_t>& rows, int32_t pad_id) {
  std::vector<const TokenSequence*> sequences;
  for (int64_t r : rows) sequences.push_back(&batch.sequences[r]);
  return pack_sequences(sequences, pad_id);
}

// Log-probs of every row under `model` without gradient (the old or the reference policy), on the
// model's device.
at::Tensor fixed_log_probs(policy::ModelImpl& model, const ScoredBatch& batch,
                           const UpdateSettings& settings) {
  at::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(batch.sequences.size());
  const int64_t columns = batch.response_mask.size(1);
  const at::Device device = model.device();
  at::Tensor out = at::zeros({n, columns}, at::TensorOptions(at::kFloat).device(device));  // [N, C]
  std::vector<int64_t> every_row(n);
  for (int64_t i = 0; i < n; ++i) every_row[i] = i;
  for (const auto& rows : micro_batches(every_row, settings.micro_batch_size)) {
    const PackedBatch b = pack_rows(batch, rows, settings.pad_id);
    at::Tensor lp = score_responses(model, b, settings.temperature, false).log_probs;  // [m, c]
    std::vector<int64_t> local(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) local[i] = static_cast<int64_t>(i);
    out.index_copy_(0, at::tensor(rows, at::kLong).to(device), gather_rows(lp, local, columns));
  }
  return out;
}

// Sums over the step's optimizer steps, for the means UpdateStats reports.
struct Totals {
  double loss = 0, kl = 0, entropy = 0, clip = 0, grad_norm = 0;
  double mismatch = 0, mismatch_tokens = 0;
  int optimizer_steps = 0;
};

}  // namespace

UpdateSettings UpdateSettings::from_config(const RunConfig& config, int32_t pad_id) {
  const TrainerSection& t = config.trainer;
  UpdateSettings s;
  s.loss.clip_ratio_low = t.clip_ratio_low;
  s.loss.clip_ratio_high = t.clip_ratio_high;
  s.loss.clip_ratio_c = t.clip_ratio_c;
  s.loss.agg = t.loss_agg_mode;
  s.loss.norm_length = t.loss_norm_length > 0 ? t.loss_norm_length : config.rollout.max_new_tokens;
  s.loss.kl_coef = t.kl_coef;
  s.loss.kl_estimator = t.kl_estimator;
  s.loss.entropy_coef = t.entropy_coef;
  s.loss.tis_cap = t.tis_cap;
  s.schedule.kind = t.lr_schedule;
  s.schedule.lr = t.lr;
  s.schedule.warmup_steps = t.warmup_steps;
  s.schedule.total_steps = t.total_steps;
  s.schedule.min_lr_ratio = t.min_lr_ratio;
  s.ppo_epochs = t.ppo_epochs;
  s.mini_batch_size = t.mini_batch_size;
  s.micro_batch_size = t.micro_batch_size;
  s.old_log_probs = t.old_log_probs;
  s.temperature = config.rollout.temperature;
  s.grad_clip = t.grad_clip;
  s.moe_bias_update_speed = t.moe_bias_update_speed;
  s.seed = static_cast<uint64_t>(config.run.seed);
  s.pad_id = pad_id;
  return s;
}

absl::StatusOr<UpdateStats> update_policy(const ScoredBatch& batch, int64_t step,
                                          const UpdateSettings& settings, TrainableModel& trainable,
                                          policy::ModelImpl* reference) {
  const auto start = Clock::now();
  policy::ModelImpl& policy = trainable.model();
  Collective& collective = trainable.collective();
  // The batch's [N, C] tensors where the model is (run.device).
  const at::Device device = policy.device();
  const at::Tensor advantages = batch.advantages.to(device);
  const at::Tensor rollout_lp = batch.rollout_log_probs.to(device);
  const at::Tensor loss_mask = batch.loss_mask.to(device);
  const at::Tensor response_mask = batch.response_mask.to(device);
  // Groups are numbered over the job; this rank holds some of them.
  const int64_t groups = batch.total_groups;
  std::map<int64_t, size_t> local;  // job-wide group index -> this rank's kept group
  for (size_t g = 0; g < batch.group_index.size(); ++g) local[batch.group_index[g]] = g;
  const int64_t groups_per_mini =
      settings.mini_batch_size > 0 ? std::min<int64_t>(settings.mini_batch_size, groups) : groups;
  const int64_t num_minis = (groups + groups_per_mini - 1) / groups_per_mini;
  const bool single_pass = settings.ppo_epochs == 1 && num_minis == 1;
  const bool old_from_rollout = settings.old_log_probs == OldLogProbs::kRollout;

  // Log-probs that do not change during the updates: old (recomputed) and reference. In a single
  // pass the policy is still the old one when each row is scored, so old = new.detach().
  at::Tensor old_lp, ref_lp;  // [N, C]
  if (!single_pass && !old_from_rollout) old_lp = fixed_log_probs(policy, batch, settings);
  if (old_from_rollout) old_lp = rollout_lp;
  if (settings.loss.kl_coef > 0) ref_lp = fixed_log_probs(*reference, batch, settings);

  UpdateStats stats;
  Totals totals;
  ExpertLoadTally load(policy);
  stats.lr = settings.schedule.at(step);
  at::Generator shuffle_gen = at::detail::createCPUGenerator(
      splitmix64_nth(settings.seed ^ 0x5eedull, static_cast<uint64_t>(step) + 1));
  policy.train();
  for (int epoch = 0; epoch < settings.ppo_epochs; ++epoch) {
    const at::Tensor order = at::randperm(groups, shuffle_gen, at::kLong);
    for (int64_t mini = 0; mini < num_minis; ++mini) {
      std::vector<int64_t> rows;
      for (int64_t k = mini * groups_per_mini;
           k < std::min<int64_t>((mini + 1) * groups_per_mini, groups); ++k) {
        const int64_t g = single_pass ? k : order[k].item<int64_t>();
        auto it = local.find(g);
        if (it == local.end()) continue;  // another rank's group
        const std::vector<int64_t>& mine = batch.rows_of_group[it->second];
        rows.insert(rows.end(), mine.begin(), mine.end());
      }
      const at::Tensor row_index = at::tensor(rows, at::kLong).to(device);
      // The mini-batch's denominators, over every rank.
      ASSIGN_OR_RETURN(
          std::vector<double> counts,
          sum_over_ranks(collective, {loss_mask.index_select(0, row_index).sum().item<double>(),
                                      static_cast<double>(rows.size())}));
      const double total_tokens = counts[0], total_rows = counts[1];
      trainable.zero_grad();
      double step_loss = 0, step_kl = 0, step_entropy = 0, step_clip = 0;
      for (const auto& micro : micro_batches(rows, settings.micro_batch_size)) {
        const PackedBatch b = pack_rows(batch, micro, settings.pad_id);
        const int64_t c = b.response_ids.size(1);
        ResponseScores s = score_responses(policy, b, settings.temperature, true);
        PolicyLossInputs in;
        in.log_probs_new = s.log_probs;
        const at::Tensor micro_rollout = gather_rows(rollout_lp, micro, c);
        in.log_probs_old = old_lp.defined() ? gather_rows(old_lp, micro, c) : s.log_probs.detach();
        in.advantages = gather_rows(advantages, micro, c);
        in.mask = gather_rows(loss_mask, micro, c);
        if (ref_lp.defined()) in.log_probs_ref = gather_rows(ref_lp, micro, c);
        in.entropy = s.entropy;
        in.log_probs_rollout = micro_rollout;
        in.total_tokens = std::max(total_tokens, 1.0);
        in.total_sequences = total_rows;
        PolicyLossOutput out = compute_policy_loss(in, settings.loss);
        at::Tensor loss = out.loss;
        if (s.aux_loss.defined() && s.aux_loss.requires_grad()) {
          loss = loss + s.aux_loss * (double(micro.size()) / total_rows);
        }
        loss.backward();
        step_loss += out.loss.item<double>();
        step_kl += out.kl;
        step_entropy += out.entropy;
        const double micro_tokens = in.mask.sum().item<double>();
        step_clip += out.clip_fraction * micro_tokens;
        if (epoch == 0) {
          // Rollout-vs-trainer log-prob mismatch on the first pass over each sequence.
          const at::Tensor recomputed = old_lp.defined() && !old_from_rollout
                                            ? gather_rows(old_lp, micro, c)
                                            : s.log_probs.detach();
          const at::Tensor m = gather_rows(response_mask, micro, c);
          totals.mismatch += ((recomputed - micro_rollout).abs() * m).sum().item<double>();
          totals.mismatch_tokens += m.sum().item<double>();
        }
        load.add(policy.expert_load());
        stats.trained_tokens += b.attention_mask.sum().item<int64_t>();
      }
      ASSIGN_OR_RETURN(const double grad_norm, trainable.step(settings.grad_clip, stats.lr));
      totals.grad_norm += grad_norm;
      if (settings.moe_bias_update_speed > 0) {
        RETURN_IF_ERROR(all_reduce_routing_load(collective, policy));
        policy.update_routing_bias(settings.moe_bias_update_speed);
      }
      ++totals.optimizer_steps;
      totals.loss += step_loss;
      totals.kl += step_kl;
      totals.entropy += step_entropy;
      totals.clip += step_clip / std::max(total_tokens, 1.0);
    }
  }
  policy.eval();
  // The sums over every rank's rows (the grad norm is the same everywhere already).
  ASSIGN_OR_RETURN(std::vector<double> sums,
                   sum_over_ranks(collective, {totals.loss, totals.kl, totals.entropy,
                                               totals.clip, totals.mismatch,
                                               totals.mismatch_tokens,
                                               static_cast<double>(stats.trained_tokens)}));
  RETURN_IF_ERROR(load.sum_over_ranks(collective));
  const double steps = std::max(totals.optimizer_steps, 1);
  stats.loss = sums[0] / steps;
  stats.kl = sums[1] / steps;
  stats.entropy = sums[2] / steps;
  stats.clip_fraction = sums[3] / steps;
  stats.grad_norm = totals.grad_norm / steps;
  stats.logprob_mismatch = sums[5] > 0 ? sums[4] / sums[5] : 0.0;
  stats.trained_tokens = static_cast<int64_t>(sums[6]);
  stats.load_imbalance = load.imbalance();
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return stats;
}

}  // namespace forge::rl
