#include "rl/trainer/grpo_trainer.h"

#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"
#include "rl/checkpoint/trainable_model.h"
#include "rl/dist/data_parallel.h"
#include "rl/torch_boundary.h"
#include "rl/trainer/collect_stage.h"
#include "rl/trainer/publish_stage.h"
#include "rl/trainer/record_stage.h"
#include "rl/trainer/rollout_prefetch.h"

namespace forge::rl {
using Clock = std::chrono::steady_clock;

GrpoTrainer::GrpoTrainer(GrpoTrainerDeps deps)
    : deps_(std::move(deps)),
      collective_(deps_.collective != nullptr ? *deps_.collective : single_),
      score_settings_(ScoreSettings::from_config(*deps_.config, deps_.tokenizer->pad_id())),
      update_settings_(UpdateSettings::from_config(*deps_.config, deps_.tokenizer->pad_id())) {}

GrpoTrainer::~GrpoTrainer() = default;

absl::StatusOr<std::unique_ptr<GrpoTrainer>> GrpoTrainer::create(GrpoTrainerDeps deps) {
  const bool root = deps.collective == nullptr || deps.collective->is_root();
  if (deps.config == nullptr || !deps.policy || deps.tokenizer == nullptr ||
      deps.prompts == nullptr || deps.generation == nullptr || deps.grading == nullptr ||
      (root && deps.metrics == nullptr)) {
    return absl::InvalidArgumentError("GrpoTrainer: missing dependency");
  }
  if (deps.config->trainer.kl_coef > 0 && !deps.reference) {
    return absl::InvalidArgumentError("trainer.kl_coef > 0 needs a reference policy");
  }
  std::unique_ptr<GrpoTrainer> trainer(new GrpoTrainer(std::move(deps)));
  GrpoTrainerDeps& d = trainer->deps_;
  const RunConfig& config = *d.config;
  const TrainerSection& t = config.trainer;
  trainer->model_ = std::make_unique<TrainableModel>(
      d.policy, AdamW::Options{t.adam_beta1, t.adam_beta2, 1e-8, t.weight_decay}, config.run.dir,
      t.keep_last, trainer->collective_,
      DataParallelOptions{config.dist.zero == 1, int64_t{config.dist.bucket_mb} << 20});
  trainer->collector_ = std::make_unique<Collector>(CollectSettings::from_config(config),
                                                    *d.prompts, *d.tokenizer, *d.generation,
                                                    *d.grading, trainer->collective_);
  trainer->prefetch_ = std::make_unique<RolloutPrefetch>(
      *trainer->collector_, *d.prompts, config.rollout.max_staleness, t.total_steps, t.batch_size);
  trainer->recorder_ = std::make_unique<StepRecorder>(RecordSettings::from_config(config),
                                                      d.metrics, *trainer->model_, d.board,
                                                      d.logger);
  trainer->completed_position_ = d.prompts->position();
  if (d.reference) d.reference->eval();
  return trainer;
}

absl::Status GrpoTrainer::restore(const std::string& checkpoint_dir) {
  return torch_boundary([&]() -> absl::Status {
    ASSIGN_OR_RETURN(TrainingState state, model_->restore(checkpoint_dir));
    ASSIGN_OR_RETURN(DataPosition position, DataPosition::from_json(state.data));
    if (state.data.contains("in_flight")) {
      RETURN_IF_ERROR(prefetch_->restore(state.data["in_flight"]));
    }
    RETURN_IF_ERROR(deps_.prompts->restore(position));
    step_ = state.step;
    policy_version_ = state.policy_version;
    completed_position_ = position;
    return absl::OkStatus();
  });
}

TrainingState GrpoTrainer::state() const {
  TrainingState state;
  state.step = step_;
  state.policy_version = policy_version_;
  state.data = completed_position_.to_json();
  const nlohmann::json in_flight = prefetch_->in_flight();
  if (!in_flight.empty()) state.data["in_flight"] = in_flight;  // asynchronous runs only
  return state;
}

void GrpoTrainer::set_state(const char* state) {
  state_ = state;
  if (deps_.board == nullptr) return;
  deps_.board->update([&](auto& s) {
    s.state = state;
    s.step = step_;
    s.total_steps = deps_.config->trainer.total_steps;
    s.policy_version = policy_version_;
    s.run_dir = deps_.config->run.dir;
  });
}

bool GrpoTrainer::stopping() const { return deps_.stop_requested && deps_.stop_requested(); }

absl::StatusOr<GrpoTrainer::ControlRequests> GrpoTrainer::agree_on_control() {
  ControlRequests asked;
  asked.stop = stopping();
  asked.paused = deps_.control != nullptr && deps_.control->paused();
  asked.save_taken_here = deps_.control != nullptr && deps_.control->take_save_request();
  asked.save = asked.save_taken_here;
  if (collective_.world_size() == 1) return asked;
  ASSIGN_OR_RETURN(std::vector<double> any,
                   sum_over_ranks(collective_, {asked.stop ? 1.0 : 0.0, asked.paused ? 1.0 : 0.0,
                                                asked.save ? 1.0 : 0.0}));
  asked.stop = any[0] > 0;
  asked.paused = any[1] > 0;
  asked.save = any[2] > 0;
  return asked;
}

absl::Status GrpoTrainer::publish(int64_t version) {
  return torch_boundary([&]() -> absl::Status {
    RETURN_IF_ERROR(
        publish_weights(*deps_.generation, model_->model(), version, deps_.logger).status());
    policy_version_ = version;
    return absl::OkStatus();
  });
}

absl::Status GrpoTrainer::run() {
  const RunConfig& config = *deps_.config;
  set_state("starting");
  RETURN_IF_ERROR(publish(step_));
  admit_rollouts();
  log_info(deps_.logger, absl::StrCat("training steps ", step_ + 1, "..",
                                      config.trainer.total_steps, " of ", config.run.dir));
  while (step_ < config.trainer.total_steps) {
    ASSIGN_OR_RETURN(const bool stop, serve_control());  // every rank stops after one step
    if (stop) break;
    if (deps_.children_health) RETURN_IF_ERROR(deps_.children_health());
    absl::Status st = run_step(step_ + 1);
    if (!st.ok()) {
      if (stopping()) break;  // abandoned: the model still holds the last completed step
      return st;
    }
  }
  set_state("stopping");
  RETURN_IF_ERROR(torch_boundary([&] { return recorder_->finish(state()); }));
  ASSIGN_OR_RETURN(const ControlRequests asked, agree_on_control());  // asked during the last step
  if (asked.save) RETURN_IF_ERROR(save_for_control(asked.save_taken_here));
  set_state(step_ >= config.trainer.total_steps ? "finished" : "stopping");
  return absl::OkStatus();
}

void GrpoTrainer::admit_rollouts() {
  prefetch_->admit(policy_version_);
  // What was drawn ahead belongs to the state a checkpoint describes (as in-flight rounds).
  if (deps_.config->rollout.max_staleness > 0) completed_position_ = deps_.prompts->position();
}

absl::Status GrpoTrainer::save_for_control(bool taken_here) {
  const char* before = state_;
  set_state("saving");
  const absl::Status saved = torch_boundary([&] { return model_->save(state()); });
  set_state(before);  // back (paused, say) before the caller hears that the save is done
  if (taken_here) deps_.control->saved(saved.ok() ? absl::StatusOr<int64_t>(step_) : saved);
  return saved;
}

absl::StatusOr<bool> GrpoTrainer::serve_control() {
  constexpr std::chrono::milliseconds kPausedRound(250);
  while (true) {
    ASSIGN_OR_RETURN(const ControlRequests asked, agree_on_control());
    if (asked.save) RETURN_IF_ERROR(save_for_control(asked.save_taken_here));
    if (asked.stop) return true;
    if (!asked.paused) return false;
    set_state("paused");
    if (deps_.control != nullptr && deps_.control->paused()) {
      deps_.control->wait_for_request(kPausedRound);  // wakes early for a save, stop or resume
    } else {
      std::this_thread::sleep_for(kPausedRound);  // paused by another rank's TrainerService
    }
  }
}

absl::Status GrpoTrainer::run_step(int64_t step) {
  set_state("training");
  const auto start = Clock::now();
  CollectedBatch batch;
  UpdateStats update;
  RETURN_IF_ERROR(torch_boundary([&]() -> absl::Status {
    const auto wait_start = Clock::now();
    ASSIGN_OR_RETURN(std::optional<CollectRound> first, prefetch_->take(step));
    if (first) first->wait_seconds = seconds_since(wait_start);
    ASSIGN_OR_RETURN(batch, collector_->collect(step, std::move(first)));
    if (batch.kept_total == 0) return absl::OkStatus();  // no rank kept a group
    ASSIGN_OR_RETURN(const ScoredBatch scored, score(batch, score_settings_, collective_));
    ASSIGN_OR_RETURN(update, update_policy(scored, step, update_settings_, *model_,
                                           deps_.reference ? deps_.reference.get() : nullptr));
    const int check_every = deps_.config->dist.check_every;
    if (check_every > 0 && step % check_every == 0) {
      RETURN_IF_ERROR(check_same_parameters(collective_, model_->model(), step));
    }
    return absl::OkStatus();
  }));
  // The step's update is done: from here a checkpoint describes it.
  step_ = step;
  completed_position_ = deps_.prompts->position();
  prefetch_->done(step);

  const auto sync_start = Clock::now();
  RETURN_IF_ERROR(publish(step));
  const double sync_seconds = seconds_since(sync_start);
  admit_rollouts();
  return torch_boundary([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const auto metrics, step_metrics(batch, update, sync_seconds,
                                                      seconds_since(start), policy_version_,
                                                      collective_));
    return recorder_->record(step, batch, metrics, state());
  });
}

}  // namespace forge::rl
