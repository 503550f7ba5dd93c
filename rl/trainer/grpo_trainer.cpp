#include "rl/trainer/grpo_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "rl/grpo/advantages.h"
#include "rl/grpo/lr_schedule.h"
#include "rl/grpo/policy_loss.h"
#include "rl/trainer/packed_batch.h"
#include "rl/trainer/response_scorer.h"
#include "rl/trainer/reward_stats.h"

namespace forge::rl {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// splitmix64: independent, reproducible seeds for (run seed, step, round) triples.
uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

absl::Status torch_boundary(const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("torch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace

struct GrpoTrainer::Group {
  SourcedPrompt prompt;
  std::vector<int32_t> prompt_ids;
  std::vector<rollout::Completion> completions;
  std::vector<reward::GradeOutcome> grades;
};

struct GrpoTrainer::StepResult {
  std::map<std::string, double> metrics;
  int64_t generated_tokens = 0;
  int64_t trained_tokens = 0;
};

GrpoTrainer::GrpoTrainer(GrpoTrainerDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<std::unique_ptr<GrpoTrainer>> GrpoTrainer::create(GrpoTrainerDeps deps) {
  if (deps.config == nullptr || !deps.policy || deps.tokenizer == nullptr ||
      deps.prompts == nullptr || deps.rollout == nullptr || deps.reward == nullptr ||
      deps.metrics == nullptr) {
    return absl::InvalidArgumentError("GrpoTrainer: missing dependency");
  }
  if (deps.config->trainer.kl_coef > 0 && !deps.reference) {
    return absl::InvalidArgumentError("trainer.kl_coef > 0 needs a reference policy");
  }
  std::unique_ptr<GrpoTrainer> trainer(new GrpoTrainer(std::move(deps)));
  const TrainerSection& t = trainer->deps_.config->trainer;
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (const auto& p : trainer->deps_.policy->named_parameters()) {
    params.emplace_back(p.key(), p.value());
  }
  trainer->optimizer_ = std::make_unique<AdamW>(
      std::move(params), AdamW::Options{t.adam_beta1, t.adam_beta2, 1e-8, t.weight_decay});
  trainer->checkpointer_ = std::make_unique<Checkpointer>(
      trainer->deps_.config->run.dir + "/checkpoints", t.keep_last);
  trainer->completed_position_ = trainer->deps_.prompts->position();
  if (trainer->deps_.reference) trainer->deps_.reference->eval();
  return trainer;
}

absl::Status GrpoTrainer::restore(const std::string& checkpoint_dir) {
  return torch_boundary([&]() -> absl::Status {
    ASSIGN_OR_RETURN(TrainingState state,
                     Checkpointer::load(checkpoint_dir, *deps_.policy, optimizer_.get()));
    ASSIGN_OR_RETURN(DataPosition position, DataPosition::from_json(state.data));
    RETURN_IF_ERROR(deps_.prompts->restore(position));
    step_ = state.step;
    policy_version_ = state.policy_version;
    completed_position_ = position;
    return absl::OkStatus();
  });
}

absl::Status GrpoTrainer::push_weights(int64_t version) {
  ASSIGN_OR_RETURN(rollout::PoolPushResult pushed,
                   deps_.rollout->push_weights(deps_.policy->named_tensors(), version));
  if (!pushed.failed.empty()) {
    std::fprintf(stderr, "forge run: weight update v%lld missed %zu worker(s): %s\n",
                 static_cast<long long>(version), pushed.failed.size(), pushed.failed[0].c_str());
  }
  policy_version_ = version;
  return absl::OkStatus();
}

absl::Status GrpoTrainer::save_checkpoint() {
  if (deps_.board) deps_.board->update([](auto& s) { s.state = "saving"; });
  TrainingState state;
  state.step = step_;
  state.policy_version = policy_version_;
  state.data = completed_position_.to_json();
  return checkpointer_->save(*deps_.policy, *optimizer_, state);
}

absl::StatusOr<std::vector<GrpoTrainer::Group>> GrpoTrainer::generate_and_grade(
    int64_t step, StepResult& result) {
  const RunConfig& config = *deps_.config;
  const int64_t batch = config.trainer.batch_size;
  std::vector<Group> kept;
  std::vector<Group> all_generated;  // reward metrics see every sample, kept or not
  double rollout_seconds = 0, reward_seconds = 0;
  int64_t dropped = 0;

  for (int round = 0; round < config.trainer.max_gen_batches; ++round) {
    const int64_t want = config.trainer.dynamic_sampling ? batch - int64_t(kept.size()) : batch;
    if (want <= 0) break;
    std::vector<Group> groups;
    rollout::GenerationRequest request;
    for (SourcedPrompt& p : deps_.prompts->next_batch(want)) {
      Group g;
      g.prompt_ids.push_back(deps_.tokenizer->bos_id());
      const std::vector<int32_t> ids = deps_.tokenizer->encode(p.text);
      g.prompt_ids.insert(g.prompt_ids.end(), ids.begin(), ids.end());
      g.prompt = std::move(p);
      request.prompts.push_back(g.prompt_ids);
      groups.push_back(std::move(g));
    }
    request.sampling.temperature = config.rollout.temperature;
    request.sampling.top_p = config.rollout.top_p;
    request.sampling.top_k = config.rollout.top_k;
    request.sampling.n = config.rollout.n;
    request.sampling.max_new_tokens = config.rollout.max_new_tokens;
    request.sampling.stop = config.rollout.stop;
    request.sampling.seed = mix_seed(mix_seed(static_cast<uint64_t>(config.run.seed), step), round);

    const auto rollout_start = Clock::now();
    ASSIGN_OR_RETURN(std::vector<rollout::Completion> completions,
                     deps_.rollout->generate(request));
    rollout_seconds += seconds_since(rollout_start);

    std::vector<reward::GradeItem> items;
    for (rollout::Completion& c : completions) {
      if (c.prompt_index < 0 || c.prompt_index >= int32_t(groups.size())) {
        return absl::InternalError(absl::StrCat("rollout returned prompt_index ", c.prompt_index));
      }
      Group& g = groups[c.prompt_index];
      reward::GradeItem item;
      item.id = absl::StrCat(step, "-", round, "-", c.prompt_index, "-", c.sample_index);
      item.completion = deps_.prompts->chat_template().response(c.text);
      item.answer = g.prompt.example.answer;
      item.tests = g.prompt.example.tests;
      item.completion_tokens = static_cast<int>(c.token_ids.size());
      items.push_back(std::move(item));
      result.generated_tokens += static_cast<int64_t>(c.token_ids.size());
      g.completions.push_back(std::move(c));
    }
    const auto reward_start = Clock::now();
    ASSIGN_OR_RETURN(std::vector<reward::GradeOutcome> grades, deps_.reward->grade(items));
    reward_seconds += seconds_since(reward_start);
    size_t k = 0;
    for (Group& g : groups) {
      for (size_t i = 0; i < g.completions.size(); ++i) g.grades.push_back(grades[k++]);
    }

    for (Group& g : groups) {
      all_generated.push_back(g);
      bool all_equal = true;
      for (const auto& grade : g.grades) all_equal &= grade.reward == g.grades.front().reward;
      if (config.trainer.dynamic_sampling && all_equal) {
        ++dropped;
        continue;
      }
      kept.push_back(std::move(g));
    }
    if (!config.trainer.dynamic_sampling) break;
  }
  if (int64_t(kept.size()) > batch) kept.resize(batch);

  std::vector<const reward::GradeOutcome*> outcomes;
  std::vector<const rollout::Completion*> completions;
  for (const Group& g : all_generated) {
    for (size_t i = 0; i < g.grades.size(); ++i) {
      outcomes.push_back(&g.grades[i]);
      completions.push_back(&g.completions[i]);
    }
  }
  for (const auto& [k, v] : reward_metrics(outcomes, completions)) result.metrics[k] = v;
  result.metrics["time/rollout"] = rollout_seconds;
  result.metrics["time/reward"] = reward_seconds;
  result.metrics["dynamic_sampling/dropped_groups"] = static_cast<double>(dropped);
  result.metrics["dynamic_sampling/kept_groups"] = static_cast<double>(kept.size());
  RETURN_IF_ERROR(write_samples(step, all_generated));
  return kept;
}

absl::Status GrpoTrainer::write_samples(int64_t step, const std::vector<Group>& groups) {
  const int limit = deps_.config->trainer.samples_per_step;
  if (limit <= 0) return absl::OkStatus();
  std::ofstream out(deps_.config->run.dir + "/samples.jsonl", std::ios::app);
  int written = 0;
  for (const Group& g : groups) {
    for (size_t i = 0; i < g.completions.size() && written < limit; ++i, ++written) {
      nlohmann::ordered_json j;
      j["step"] = step;
      j["prompt"] = g.prompt.example.prompt;
      j["answer"] = g.prompt.example.answer;
      j["completion"] = g.completions[i].text;
      j["reward"] = g.grades[i].reward;
      j["components"] = g.grades[i].components;
      j["finish_reason"] = g.completions[i].finish_reason;
      j["policy_version"] = g.completions[i].policy_version;
      out << j.dump() << "\n";
    }
  }
  if (!out) return absl::DataLossError("cannot append to samples.jsonl");
  return absl::OkStatus();
}

absl::Status GrpoTrainer::train_on(int64_t step, std::vector<Group>& groups, StepResult& result) {
  const RunConfig& config = *deps_.config;
  const TrainerSection& t = config.trainer;
  const double temperature = config.rollout.temperature;

  // Flatten: one TokenSequence per completion, grouped by prompt.
  std::vector<TokenSequence> sequences;
  std::vector<double> scores;
  std::vector<int64_t> group_ids;
  std::vector<std::vector<int64_t>> rows_of_group(groups.size());
  std::vector<bool> truncated;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    for (size_t i = 0; i < groups[gi].completions.size(); ++i) {
      const rollout::Completion& c = groups[gi].completions[i];
      rows_of_group[gi].push_back(static_cast<int64_t>(sequences.size()));
      sequences.push_back(TokenSequence{groups[gi].prompt_ids, c.token_ids});
      scores.push_back(groups[gi].grades[i].reward);
      group_ids.push_back(static_cast<int64_t>(gi));
      truncated.push_back(c.finish_reason == "length");
    }
  }
  const int64_t n = static_cast<int64_t>(sequences.size());
  std::vector<const TokenSequence*> all;
  for (const auto& s : sequences) all.push_back(&s);
  const PackedBatch packed = pack_sequences(all, deps_.tokenizer->pad_id());
  const int64_t c_all = packed.response_ids.size(1);

  at::Tensor loss_mask = packed.response_mask.clone();  // [N, C]
  if (t.overlong_filter) {
    for (int64_t i = 0; i < n; ++i) {
      if (truncated[i]) loss_mask[i].zero_();
    }
  }
  ASSIGN_OR_RETURN(AdvantageEstimator estimator, parse_advantage_estimator(t.adv_estimator));
  const at::Tensor advantages = compute_advantages(
      estimator, at::tensor(scores, at::kDouble).to(at::kFloat), at::tensor(group_ids, at::kLong),
      packed.response_mask, t.adv_eps);  // [N, C]

  at::Tensor rollout_lp = at::zeros({n, c_all}, at::kFloat);  // [N, C]
  {
    auto acc = rollout_lp.accessor<float, 2>();
    for (int64_t i = 0; i < n; ++i) {
      const auto& lp = groups[group_ids[i]].completions[i - rows_of_group[group_ids[i]][0]].logprobs;
      for (size_t j = 0; j < lp.size() && int64_t(j) < c_all; ++j) acc[i][j] = lp[j];
    }
  }

  PolicyLossConfig loss_config;
  loss_config.clip_ratio_low = t.clip_ratio_low;
  loss_config.clip_ratio_high = t.clip_ratio_high;
  loss_config.clip_ratio_c = t.clip_ratio_c;
  ASSIGN_OR_RETURN(loss_config.agg, parse_loss_agg_mode(t.loss_agg_mode));
  loss_config.norm_length = t.loss_norm_length > 0 ? t.loss_norm_length : config.rollout.max_new_tokens;
  loss_config.kl_coef = t.kl_coef;
  ASSIGN_OR_RETURN(loss_config.kl_estimator, parse_kl_estimator(t.kl_estimator));
  loss_config.entropy_coef = t.entropy_coef;
  loss_config.tis_cap = t.tis_cap;

  const int64_t groups_per_mini =
      t.mini_batch_size > 0 ? std::min<int64_t>(t.mini_batch_size, groups.size()) : groups.size();
  const int64_t num_minis = (int64_t(groups.size()) + groups_per_mini - 1) / groups_per_mini;
  const bool single_pass = t.ppo_epochs == 1 && num_minis == 1;
  const bool old_from_rollout = t.old_log_probs == "rollout";

  auto micro_batches = [&](const std::vector<int64_t>& rows) {
    std::vector<std::vector<int64_t>> out;
    for (size_t start = 0; start < rows.size(); start += t.micro_batch_size) {
      out.emplace_back(rows.begin() + start,
                       rows.begin() + std::min(rows.size(), start + size_t(t.micro_batch_size)));
    }
    return out;
  };
  auto pack_rows = [&](const std::vector<int64_t>& rows) {
    std::vector<const TokenSequence*> seqs;
    for (int64_t r : rows) seqs.push_back(&sequences[r]);
    return pack_sequences(seqs, deps_.tokenizer->pad_id());
  };
  std::vector<int64_t> every_row(n);
  for (int64_t i = 0; i < n; ++i) every_row[i] = i;

  // Log-probs that do not change during the updates: old (recomputed) and reference.
  at::Tensor old_lp, ref_lp;  // [N, C]
  auto score_into = [&](policy::ModelImpl& model, at::Tensor& out) {
    at::NoGradGuard no_grad;
    out = at::zeros({n, c_all}, at::kFloat);
    for (const auto& rows : micro_batches(every_row)) {
      const PackedBatch b = pack_rows(rows);
      at::Tensor lp = score_responses(model, b, temperature, false).log_probs.cpu();  // [m, c]
      std::vector<int64_t> local(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) local[i] = int64_t(i);
      out.index_copy_(0, at::tensor(rows, at::kLong), gather_rows(lp, local, c_all));
    }
  };
  const auto train_start = Clock::now();
  if (!single_pass && !old_from_rollout) score_into(*deps_.policy, old_lp);
  if (old_from_rollout) old_lp = rollout_lp;
  if (t.kl_coef > 0) score_into(*deps_.reference, ref_lp);

  // Metrics accumulated over every optimizer step.
  double loss_sum = 0, kl_sum = 0, entropy_sum = 0, clip_sum = 0, grad_norm_sum = 0;
  double mismatch_sum = 0, mismatch_tokens = 0;
  int optimizer_steps = 0;
  std::map<int, at::Tensor> expert_load;  // layer -> [E] tokens
  LrSchedule schedule;
  ASSIGN_OR_RETURN(schedule.kind, LrSchedule::parse_kind(t.lr_schedule));
  schedule.lr = t.lr;
  schedule.warmup_steps = t.warmup_steps;
  schedule.total_steps = t.total_steps;
  schedule.min_lr_ratio = t.min_lr_ratio;
  const double lr = schedule.at(step);

  at::Generator shuffle_gen = at::detail::createCPUGenerator(
      mix_seed(static_cast<uint64_t>(config.run.seed) ^ 0x5eedull, step));
  deps_.policy->train();
  for (int epoch = 0; epoch < t.ppo_epochs; ++epoch) {
    const at::Tensor order = at::randperm(int64_t(groups.size()), shuffle_gen, at::kLong);
    for (int64_t mini = 0; mini < num_minis; ++mini) {
      std::vector<int64_t> rows;
      for (int64_t k = mini * groups_per_mini;
           k < std::min<int64_t>((mini + 1) * groups_per_mini, groups.size()); ++k) {
        const int64_t g = single_pass ? k : order[k].item<int64_t>();
        rows.insert(rows.end(), rows_of_group[g].begin(), rows_of_group[g].end());
      }
      const at::Tensor row_index = at::tensor(rows, at::kLong);
      const double total_tokens = loss_mask.index_select(0, row_index).sum().item<double>();
      optimizer_->zero_grad();
      double step_loss = 0, step_kl = 0, step_entropy = 0, step_clip = 0;
      for (const auto& micro : micro_batches(rows)) {
        const PackedBatch b = pack_rows(micro);
        const int64_t c = b.response_ids.size(1);
        ResponseScores s = score_responses(*deps_.policy, b, temperature, true);
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
        in.total_sequences = static_cast<double>(rows.size());
        PolicyLossOutput out = compute_policy_loss(in, loss_config);
        at::Tensor loss = out.loss;
        if (s.aux_loss.defined() && s.aux_loss.requires_grad()) {
          loss = loss + s.aux_loss * (double(micro.size()) / double(rows.size()));
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
          const at::Tensor m = gather_rows(packed.response_mask, micro, c);
          mismatch_sum += ((recomputed - micro_rollout).abs() * m).sum().item<double>();
          mismatch_tokens += m.sum().item<double>();
        }
        for (const policy::ExpertLoad& load : deps_.policy->expert_load()) {
          auto it = expert_load.find(load.layer);
          if (it == expert_load.end()) {
            expert_load[load.layer] = load.load.to(at::kDouble);
          } else {
            it->second += load.load.to(at::kDouble);
          }
        }
        result.trained_tokens += b.attention_mask.sum().item<int64_t>();
      }
      grad_norm_sum += optimizer_->clip_grad_norm(t.grad_clip);
      optimizer_->step(lr);
      if (t.moe_bias_update_speed > 0) deps_.policy->update_routing_bias(t.moe_bias_update_speed);
      ++optimizer_steps;
      loss_sum += step_loss;
      kl_sum += step_kl;
      entropy_sum += step_entropy;
      clip_sum += step_clip / std::max(total_tokens, 1.0);
    }
  }
  deps_.policy->eval();
  const double steps = std::max(optimizer_steps, 1);
  result.metrics["loss"] = loss_sum / steps;
  result.metrics["kl"] = kl_sum / steps;
  result.metrics["entropy"] = entropy_sum / steps;
  result.metrics["clip_fraction"] = clip_sum / steps;
  result.metrics["grad_norm"] = grad_norm_sum / steps;
  result.metrics["lr"] = lr;
  result.metrics["rollout/logprob_mismatch"] =
      mismatch_tokens > 0 ? mismatch_sum / mismatch_tokens : 0.0;
  double imbalance = 0;
  for (const auto& [layer, load] : expert_load) {
    const double mean = load.mean().item<double>();
    imbalance += mean > 0 ? load.max().item<double>() / mean : 1.0;
  }
  result.metrics["moe/load_imbalance"] = expert_load.empty() ? 1.0 : imbalance / expert_load.size();
  result.metrics["time/train"] = seconds_since(train_start);
  return absl::OkStatus();
}

absl::Status GrpoTrainer::run() {
  const RunConfig& config = *deps_.config;
  auto set_state = [&](const char* state) {
    if (deps_.board) {
      deps_.board->update([&](auto& s) {
        s.state = state;
        s.step = step_;
        s.total_steps = config.trainer.total_steps;
        s.policy_version = policy_version_;
        s.run_dir = config.run.dir;
      });
    }
  };
  set_state("starting");
  RETURN_IF_ERROR(torch_boundary([&] { return push_weights(step_); }));
  std::printf("forge run: training steps %lld..%lld of %s\n", static_cast<long long>(step_ + 1),
              static_cast<long long>(config.trainer.total_steps), config.run.dir.c_str());
  std::fflush(stdout);
  auto stopping = [&] { return deps_.stop_requested && deps_.stop_requested(); };

  while (step_ < config.trainer.total_steps && !stopping()) {
    if (deps_.children_health) RETURN_IF_ERROR(deps_.children_health());
    const int64_t step = step_ + 1;
    set_state("training");
    const auto step_start = Clock::now();
    StepResult result;
    std::vector<Group> groups;
    absl::Status st = torch_boundary([&]() -> absl::Status {
      ASSIGN_OR_RETURN(groups, generate_and_grade(step, result));
      if (groups.empty()) {
        for (const char* k : {"loss", "kl", "entropy", "clip_fraction", "grad_norm",
                              "rollout/logprob_mismatch", "time/train"}) {
          result.metrics[k] = 0.0;
        }
        result.metrics["lr"] = 0.0;
        result.metrics["moe/load_imbalance"] = 1.0;
        return absl::OkStatus();
      }
      return train_on(step, groups, result);
    });
    if (!st.ok()) {
      if (stopping()) break;  // abandoned: the model still holds the last completed step
      return st;
    }
    // The step's update is done: from here a checkpoint describes it.
    step_ = step;
    completed_position_ = deps_.prompts->position();

    const auto sync_start = Clock::now();
    st = torch_boundary([&] { return push_weights(step); });
    if (!st.ok()) {
      if (stopping()) break;
      return st;
    }
    result.metrics["time/sync"] = seconds_since(sync_start);
    const double step_seconds = seconds_since(step_start);
    result.metrics["time/step"] = step_seconds;
    result.metrics["tokens_per_s"] =
        step_seconds > 0 ? double(result.trained_tokens) / step_seconds : 0.0;
    result.metrics["response_tokens_per_s"] =
        result.metrics["time/rollout"] > 0
            ? double(result.generated_tokens) / result.metrics["time/rollout"]
            : 0.0;
    result.metrics["policy_version"] = static_cast<double>(policy_version_);
    RETURN_IF_ERROR(deps_.metrics->log(step, result.metrics));
    std::printf("step %lld/%lld  reward %.3f  acc %.3f  format %.3f  len %.1f  loss %+.4f  "
                "kl %.4f  %.1fs\n",
                static_cast<long long>(step), static_cast<long long>(config.trainer.total_steps),
                result.metrics["reward/mean"], result.metrics["accuracy"],
                result.metrics["format_rate"], result.metrics["response_length/mean"],
                result.metrics["loss"], result.metrics["kl"], step_seconds);
    std::fflush(stdout);

    if (config.trainer.save_every > 0 && step % config.trainer.save_every == 0) {
      RETURN_IF_ERROR(torch_boundary([&] { return save_checkpoint(); }));
    }
  }
  set_state("stopping");
  // The final (or interrupted) state, unless the last periodic save already wrote it.
  if (step_ > 0 && !(config.trainer.save_every > 0 && step_ % config.trainer.save_every == 0)) {
    RETURN_IF_ERROR(torch_boundary([&] { return save_checkpoint(); }));
  }
  set_state(step_ >= config.trainer.total_steps ? "finished" : "stopping");
  return absl::OkStatus();
}

}  // namespace forge::rl
