#include "rl/trainer/record_stage.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "rl/metrics/step_lines.h"
#include "rl/trainer/reward_stats.h"

namespace forge::rl {
namespace {

double value_of(const std::map<std::string, double>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0.0 : it->second;
}

}  // namespace

absl::StatusOr<std::map<std::string, double>> step_metrics(const CollectedBatch& batch,
                                                           const UpdateStats& update,
                                                           double sync_seconds,
                                                           double step_seconds,
                                                           int64_t policy_version,
                                                           Collective& collective) {
  // Reward metrics see every generated sample, kept for training or not, on every rank.
  RewardTally rewards;
  for (const PromptGroup& g : batch.groups) {
    for (const Sample& s : g.samples) rewards.add(s.grade, s.completion);
  }
  if (collective.world_size() > 1) {
    ASSIGN_OR_RETURN(std::vector<std::string> tallies, collective.all_gather(rewards.to_json()));
    rewards = RewardTally();
    for (const std::string& t : tallies) {
      ASSIGN_OR_RETURN(RewardTally theirs, RewardTally::from_json(t));
      rewards.merge(theirs);
    }
  }
  ASSIGN_OR_RETURN(std::vector<double> counts,
                   sum_over_ranks(collective, {static_cast<double>(batch.dropped_groups),
                                               static_cast<double>(batch.generated_tokens)}));
  std::map<std::string, double> m = rewards.metrics();
  m["time/rollout"] = batch.rollout_seconds;
  m["time/reward"] = batch.reward_seconds;
  m["dynamic_sampling/dropped_groups"] = counts[0];
  m["dynamic_sampling/kept_groups"] = static_cast<double>(batch.kept_total);
  if (batch.retired_total >= 0) {
    m["data/retired_prompts"] = static_cast<double>(batch.retired_prompts);
    m["data/retired_total"] = static_cast<double>(batch.retired_total);
  }
  m["loss"] = update.loss;
  m["kl"] = update.kl;
  m["entropy"] = update.entropy;
  m["clip_fraction"] = update.clip_fraction;
  m["grad_norm"] = update.grad_norm;
  m["lr"] = update.lr;
  m["rollout/logprob_mismatch"] = update.logprob_mismatch;
  m["moe/load_imbalance"] = update.load_imbalance;
  m["time/train"] = update.seconds;
  m["time/sync"] = sync_seconds;
  m["time/step"] = step_seconds;
  m["tokens_per_s"] = step_seconds > 0 ? double(update.trained_tokens) / step_seconds : 0.0;
  m["response_tokens_per_s"] =
      batch.generation_seconds > 0 ? counts[1] / batch.generation_seconds : 0.0;
  m["policy_version"] = static_cast<double>(policy_version);
  if (update.staleness_mean) m["async/staleness_mean"] = *update.staleness_mean;
  if (update.staleness_max) m["async/staleness_max"] = *update.staleness_max;
  if (update.importance_weight_mean) {
    m["async/importance_weight_mean"] = *update.importance_weight_mean;
  }
  if (update.routing_agreement) m["moe/routing_agreement"] = *update.routing_agreement;
  return m;
}

RecordSettings RecordSettings::from_config(const RunConfig& config) {
  RecordSettings s;
  s.run_dir = config.run.dir;
  s.samples_per_step = config.trainer.samples_per_step;
  s.save_every = config.trainer.save_every;
  s.total_steps = config.trainer.total_steps;
  s.token_versions = config.rollout.max_staleness > 0;
  return s;
}

StepRecorder::StepRecorder(RecordSettings settings, MetricsLog* metrics, TrainableModel& model,
                           TrainerStatusBoard* board, Logger* logger)
    : settings_(std::move(settings)),
      metrics_(metrics),
      model_(model),
      board_(board),
      logger_(logger) {}

absl::Status StepRecorder::record(int64_t step, const CollectedBatch& batch,
                                  const std::map<std::string, double>& metrics,
                                  const TrainingState& state) {
  if (!model_.collective().is_root()) return save_due(step) ? save(state) : absl::OkStatus();
  if (absl::Status st = write_samples(step, batch); !st.ok()) return st;
  if (absl::Status st = metrics_->log(step, metrics); !st.ok()) return st;
  log_info(logger_,
           absl::StrFormat("step %d/%d  reward %.3f  acc %.3f  format %.3f  len %.1f  loss %+.4f  "
                           "kl %.4f  %.1fs",
                           step, settings_.total_steps, value_of(metrics, "reward/mean"),
                           value_of(metrics, "accuracy"), value_of(metrics, "format_rate"),
                           value_of(metrics, "response_length/mean"), value_of(metrics, "loss"),
                           value_of(metrics, "kl"), value_of(metrics, "time/step")));
  return save_due(step) ? save(state) : absl::OkStatus();
}

absl::Status StepRecorder::finish(const TrainingState& state) {
  if (state.step == 0 || save_due(state.step)) return absl::OkStatus();
  return save(state);
}

bool StepRecorder::save_due(int64_t step) const {
  return settings_.save_every > 0 && step % settings_.save_every == 0;
}

absl::Status StepRecorder::save(const TrainingState& state) {
  if (board_ != nullptr) board_->update([](auto& s) { s.state = "saving"; });
  return model_.save(state);
}

absl::Status open_samples_file(const std::string& run_dir, int64_t keep_through_step) {
  return keep_lines_through_step(run_dir + "/samples.jsonl", keep_through_step).status();
}

absl::Status StepRecorder::write_samples(int64_t step, const CollectedBatch& batch) const {
  const int limit = settings_.samples_per_step;
  if (limit <= 0) return absl::OkStatus();
  std::ofstream out(settings_.run_dir + "/samples.jsonl", std::ios::app);
  int written = 0;
  for (const PromptGroup& g : batch.groups) {
    for (size_t i = 0; i < g.samples.size() && written < limit; ++i, ++written) {
      const Sample& s = g.samples[i];
      nlohmann::ordered_json j;
      j["step"] = step;
      j["prompt"] = g.prompt.example.prompt;
      j["answer"] = g.prompt.example.answer;
      j["completion"] = s.completion.text;
      j["reward"] = s.grade.reward;
      j["components"] = s.grade.components;
      j["finish_reason"] = s.completion.finish_reason;
      j["policy_version"] = s.completion.policy_version;
      if (settings_.token_versions) j["token_versions"] = s.completion.token_versions;
      out << j.dump() << "\n";
    }
  }
  if (!out) return absl::DataLossError("cannot append to samples.jsonl");
  return absl::OkStatus();
}

}  // namespace forge::rl
