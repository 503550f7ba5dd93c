#include "rl/recipe/sft_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"
#include "policy/checkpoint.h"
#include "rl/grpo/lr_schedule.h"
#include "rl/recipe/sft_batch.h"
#include "rl/dist/data_parallel.h"
#include "rl/torch_boundary.h"
#include "rl/trainer/expert_load_tally.h"

namespace forge::rl {
namespace {

using Clock = std::chrono::steady_clock;

// This rank's contiguous share [begin, end) of `n` items.
std::pair<size_t, size_t> share_of(const Collective& collective, size_t n) {
  const size_t ranks = static_cast<size_t>(collective.world_size());
  const size_t rank = static_cast<size_t>(collective.rank());
  return {n * rank / ranks, n * (rank + 1) / ranks};
}

}  // namespace

struct SftTrainer::StepStats {
  double loss = 0;  // token mean over the batch
  double grad_norm = 0;
  double lr = 0;
  int64_t response_tokens = 0;
  int64_t real_tokens = 0;    // prompt + response tokens
  int64_t padded_tokens = 0;  // rows x columns over the micro-batches
  double load_imbalance = 1.0;
};

SftTrainer::SftTrainer(SftDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<std::unique_ptr<SftTrainer>> SftTrainer::create(SftDeps deps) {
  const bool root = deps.collective == nullptr || deps.collective->is_root();
  if (deps.config == nullptr || !deps.model || deps.tokenizer == nullptr ||
      (root && deps.metrics == nullptr)) {
    return absl::InvalidArgumentError("SftTrainer: missing dependency");
  }
  std::unique_ptr<SftTrainer> t(new SftTrainer(std::move(deps)));
  const RunConfig& config = *t->deps_.config;
  const SftSection& s = config.sft;
  ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::create(config.data.template_name));
  const int64_t limit =
      s.max_seq_len > 0 ? s.max_seq_len : t->deps_.model->config().max_position_embeddings;

  std::vector<Example> kept;
  for (Example& e : t->deps_.train) {
    ASSIGN_OR_RETURN(TokenSequence seq, make_sft_sequence(e, chat, *t->deps_.tokenizer));
    if (sequence_length(seq) > limit) {
      ++t->skipped_too_long_;
      continue;
    }
    kept.push_back(std::move(e));
  }
  t->deps_.train.clear();
  if (kept.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sft: no training example fits sft.max_seq_len (", limit, " tokens); ",
                     t->skipped_too_long_, " were too long"));
  }
  ASSIGN_OR_RETURN(PromptSource source, PromptSource::create(std::move(kept), chat,
                                                             static_cast<uint64_t>(config.run.seed),
                                                             config.data.shuffle));
  t->source_ = std::make_unique<PromptSource>(std::move(source));

  const size_t want =
      s.eval_examples > 0 ? static_cast<size_t>(s.eval_examples) : t->deps_.held_out.size();
  for (const Example& e : t->deps_.held_out) {
    if (t->held_out_.size() >= want) break;
    ASSIGN_OR_RETURN(TokenSequence seq, make_sft_sequence(e, chat, *t->deps_.tokenizer));
    if (sequence_length(seq) <= limit) t->held_out_.push_back(std::move(seq));
  }

  Collective& collective =
      t->deps_.collective != nullptr ? *t->deps_.collective : t->single_;
  t->trainable_ = std::make_unique<TrainableModel>(
      t->deps_.model, AdamW::Options{s.adam_beta1, s.adam_beta2, 1e-8, s.weight_decay},
      config.run.dir, s.keep_last, collective,
      DataParallelOptions{config.dist.zero == 1, int64_t{config.dist.bucket_mb} << 20});
  return t;
}

absl::Status SftTrainer::restore(const std::string& checkpoint_dir) {
  return torch_boundary([&]() -> absl::Status {
    ASSIGN_OR_RETURN(TrainingState state, trainable_->restore(checkpoint_dir));
    ASSIGN_OR_RETURN(DataPosition position, DataPosition::from_json(state.data));
    RETURN_IF_ERROR(source_->restore(position));
    step_ = state.step;
    const nlohmann::json& x = state.extra;
    auto bad = [&](const char* key) {
      return absl::DataLossError(absl::StrCat(checkpoint_dir, "/state.json: extra.", key,
                                              " missing or mistyped (not an SFT checkpoint?)"));
    };
    if (!x.contains("best_step") || !x["best_step"].is_number_integer()) return bad("best_step");
    if (!x.contains("evals_since_best") || !x["evals_since_best"].is_number_integer()) {
      return bad("evals_since_best");
    }
    if (!x.contains("last_eval_step") || !x["last_eval_step"].is_number_integer()) {
      return bad("last_eval_step");
    }
    best_step_ = x["best_step"].get<int64_t>();
    evals_since_best_ = x["evals_since_best"].get<int>();
    last_eval_step_ = x["last_eval_step"].get<int64_t>();
    best_eval_loss_.reset();
    if (x.contains("best_eval_loss") && x["best_eval_loss"].is_number()) {
      best_eval_loss_ = x["best_eval_loss"].get<double>();
    }
    elapsed_s_ = x.value("elapsed_s", 0.0);
    return absl::OkStatus();
  });
}

absl::StatusOr<SftTrainer::StepStats> SftTrainer::train_step(int64_t step) {
  const RunConfig& config = *deps_.config;
  const SftSection& s = config.sft;
  Collective& collective = trainable_->collective();
  // Every rank draws the step's batch (the data position moves alike) and trains its share.
  const std::vector<SourcedPrompt> drawn = source_->next_batch(s.batch_size);
  const auto [begin, end] = share_of(collective, drawn.size());
  std::vector<TokenSequence> sequences;
  for (size_t i = begin; i < end; ++i) {
    ASSIGN_OR_RETURN(TokenSequence seq, make_sft_sequence(drawn[i].example,
                                                          source_->chat_template(),
                                                          *deps_.tokenizer));
    sequences.push_back(std::move(seq));
  }
  StepStats stats;
  std::vector<int64_t> rows(sequences.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i] = static_cast<int64_t>(i);
    stats.response_tokens += static_cast<int64_t>(sequences[i].response.size());
    stats.real_tokens += sequence_length(sequences[i]);
  }
  // The batch's token and sequence counts over every rank normalise the loss.
  ASSIGN_OR_RETURN(std::vector<double> counts,
                   sum_over_ranks(collective, {static_cast<double>(stats.response_tokens),
                                               static_cast<double>(stats.real_tokens),
                                               static_cast<double>(sequences.size())}));
  stats.response_tokens = static_cast<int64_t>(counts[0]);
  stats.real_tokens = static_cast<int64_t>(counts[1]);
  const double total = std::max(counts[0], 1.0);
  const double batch_sequences = counts[2];

  LrSchedule schedule;
  schedule.kind = s.lr_schedule;
  schedule.lr = s.lr;
  schedule.warmup_steps = s.warmup_steps;
  schedule.total_steps = s.max_steps;
  schedule.min_lr_ratio = s.min_lr_ratio;
  stats.lr = schedule.at(step);

  RETURN_IF_ERROR(torch_boundary([&]() -> absl::Status {
    policy::ModelImpl& model = *deps_.model;
    ExpertLoadTally load(model);
    const at::Device device = model.device();
    model.train();
    trainable_->zero_grad();
    double loss_sum = 0, padded = 0;
    for (const std::vector<int64_t>& micro : micro_batches(sequences, rows, s.micro_batch_size)) {
      const PackedBatch batch =
          sft_micro_batch(sequences, micro, s.pack_tokens, deps_.tokenizer->pad_id());
      padded += static_cast<double>(batch.input_ids.numel());
      policy::ForwardOutput out = model.forward_packed(batch.input_ids.to(device),
                                                       batch.attention_mask.to(device));  // [m,T,V]
      const at::Tensor nll = sft_loss_sum(out.logits, batch) / total;                  // scalar
      at::Tensor loss = nll;
      if (out.aux_loss.defined() && out.aux_loss.requires_grad()) {
        loss = loss + out.aux_loss * (static_cast<double>(micro.size()) / batch_sequences);
      }
      loss.backward();
      loss_sum += nll.item<double>();
      load.add(model.expert_load());
    }
    ASSIGN_OR_RETURN(stats.grad_norm, trainable_->step(s.grad_clip, stats.lr));
    RETURN_IF_ERROR(all_reduce_routing_load(collective, model));
    model.update_routing_bias(s.moe_bias_update_speed);
    ASSIGN_OR_RETURN(std::vector<double> sums, sum_over_ranks(collective, {loss_sum, padded}));
    stats.loss = sums[0];
    stats.padded_tokens = static_cast<int64_t>(sums[1]);
    RETURN_IF_ERROR(load.sum_over_ranks(collective));
    stats.load_imbalance = load.imbalance();
    return absl::OkStatus();
  }));
  return stats;
}

absl::StatusOr<std::optional<double>> SftTrainer::held_out_loss() {
  if (held_out_.empty()) return std::optional<double>();
  double sum = 0, tokens = 0;
  RETURN_IF_ERROR(torch_boundary([&]() -> absl::Status {
    at::NoGradGuard no_grad;
    policy::ModelImpl& model = *deps_.model;
    const at::Device device = model.device();
    model.eval();  // eval-mode forwards add no expert load to the routing-bias update
    // Each rank scores its share of the held-out examples.
    const auto [begin, end] = share_of(trainable_->collective(), held_out_.size());
    std::vector<int64_t> rows;
    for (size_t i = begin; i < end; ++i) rows.push_back(static_cast<int64_t>(i));
    const SftSection& s = deps_.config->sft;
    for (const auto& micro : micro_batches(held_out_, rows, s.micro_batch_size)) {
      const PackedBatch batch =
          sft_micro_batch(held_out_, micro, s.pack_tokens, deps_.tokenizer->pad_id());
      policy::ForwardOutput out = model.forward_packed(batch.input_ids.to(device),
                                                       batch.attention_mask.to(device));  // [m,T,V]
      sum += sft_loss_sum(out.logits, batch).item<double>();
      tokens += static_cast<double>(response_tokens(batch));
    }
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(std::vector<double> sums,
                   sum_over_ranks(trainable_->collective(), {sum, tokens}));
  return std::optional<double>(sums[0] / std::max(sums[1], 1.0));
}

absl::Status SftTrainer::save_model() {
  if (!trainable_->collective().is_root()) return absl::OkStatus();
  return torch_boundary(
      [&] { return policy::save_checkpoint(*deps_.model, deps_.config->run.dir + "/model"); });
}

absl::Status SftTrainer::evaluate_and_keep_best(int64_t step,
                                                std::map<std::string, double>& metrics) {
  ASSIGN_OR_RETURN(std::optional<double> loss, held_out_loss());
  last_eval_step_ = step;
  if (!loss) return absl::OkStatus();
  metrics["eval_loss"] = *loss;
  if (!best_eval_loss_ || *loss < *best_eval_loss_ - deps_.config->sft.min_delta) {
    best_eval_loss_ = *loss;
    best_step_ = step;
    evals_since_best_ = 0;
    RETURN_IF_ERROR(save_model());
  } else {
    ++evals_since_best_;
  }
  return absl::OkStatus();
}

absl::Status SftTrainer::save_checkpoint() {
  TrainingState state;
  state.step = step_;
  state.policy_version = step_;
  state.data = source_->position().to_json();
  state.extra = {{"stage", "sft"},
                 {"best_step", best_step_},
                 {"evals_since_best", evals_since_best_},
                 {"last_eval_step", last_eval_step_},
                 {"elapsed_s", elapsed_s_}};
  state.extra["best_eval_loss"] =
      best_eval_loss_ ? nlohmann::json(*best_eval_loss_) : nlohmann::json(nullptr);
  return torch_boundary([&] { return trainable_->save(state); });
}

absl::StatusOr<SftOutcome> SftTrainer::run() {
  const RunConfig& config = *deps_.config;
  const SftSection& s = config.sft;
  const bool evaluating = s.eval_every > 0 && !held_out_.empty();
  // A stop request on any rank stops every rank after the same step.
  bool stop = false;
  auto agree_on_stop = [&]() -> absl::Status {
    const bool mine = deps_.stop_requested && deps_.stop_requested();
    ASSIGN_OR_RETURN(std::vector<double> any,
                     sum_over_ranks(trainable_->collective(), {mine ? 1.0 : 0.0}));
    stop = any[0] > 0;
    return absl::OkStatus();
  };
  auto stopping = [&] { return stop; };
  auto plateaued = [&] { return evaluating && evals_since_best_ >= s.patience; };
  RETURN_IF_ERROR(agree_on_stop());
  SftOutcome outcome;
  log_info(deps_.logger,
           absl::StrFormat("steps %d..%d on %d examples (%d too long, skipped); held-out %d "
                           "examples%s",
                           step_ + 1, s.max_steps, source_->size(), skipped_too_long_,
                           held_out_.size(), evaluating ? "" : " (no plateau stop)"));

  const int64_t start_step = step_;
  while (step_ < s.max_steps && !plateaued() && !stopping()) {
    const int64_t step = step_ + 1;
    const auto start = Clock::now();
    ASSIGN_OR_RETURN(StepStats stats, train_step(step));
    step_ = step;
    const double train_seconds = seconds_since(start);
    std::map<std::string, double> m;
    m["loss"] = stats.loss;
    m["lr"] = stats.lr;
    m["grad_norm"] = stats.grad_norm;
    m["response_tokens"] = static_cast<double>(stats.response_tokens);
    m["tokens_per_s"] = train_seconds > 0 ? stats.real_tokens / train_seconds : 0.0;
    m["pad_fraction"] =
        stats.padded_tokens > 0 ? 1.0 - double(stats.real_tokens) / stats.padded_tokens : 0.0;
    m["moe/load_imbalance"] = stats.load_imbalance;
    if (evaluating && step % s.eval_every == 0) RETURN_IF_ERROR(evaluate_and_keep_best(step, m));
    const double step_seconds = seconds_since(start);
    elapsed_s_ += step_seconds;
    m["time/step"] = step_seconds;
    m["time"] = elapsed_s_;
    if (deps_.metrics != nullptr) RETURN_IF_ERROR(deps_.metrics->log(step, m));
    const bool evaluated = m.count("eval_loss") > 0;
    if (evaluated || (s.log_every > 0 && step % s.log_every == 0) || step == start_step + 1) {
      const std::string eval = evaluated ? absl::StrFormat("  eval %.4f%s", m["eval_loss"],
                                                           evals_since_best_ == 0 ? " (best)" : "")
                                         : "";
      log_info(deps_.logger,
               absl::StrFormat("step %d/%d  loss %.4f%s  lr %.2e  grad %.3f  %.0f tok/s  %.1fs",
                               step, s.max_steps, stats.loss, eval, stats.lr, stats.grad_norm,
                               m["tokens_per_s"], elapsed_s_));
    }
    if (s.save_every > 0 && step % s.save_every == 0) RETURN_IF_ERROR(save_checkpoint());
    RETURN_IF_ERROR(agree_on_stop());
  }
  // The last step is a candidate too.
  if (evaluating && step_ > 0 && last_eval_step_ != step_ && !stopping()) {
    std::map<std::string, double> m;
    RETURN_IF_ERROR(evaluate_and_keep_best(step_, m));
    log_info(deps_.logger, absl::StrFormat("final eval at step %d: %.4f%s", step_,
                                           m["eval_loss"], best_step_ == step_ ? " (best)" : ""));
  }
  if (!evaluating || !best_eval_loss_) {
    RETURN_IF_ERROR(save_model());
    best_step_ = step_;
  }
  // The final state (replacing a periodic save of the same step: the final eval may have moved
  // the best).
  if (step_ > 0) RETURN_IF_ERROR(save_checkpoint());
  outcome.steps = step_;
  outcome.stop_reason = stopping() ? "interrupted" : plateaued() ? "plateau" : "max_steps";
  outcome.best_eval_loss = best_eval_loss_;
  outcome.best_step = best_step_;
  outcome.model_dir = config.run.dir + "/model";
  outcome.train_examples = source_->size();
  outcome.skipped_too_long = skipped_too_long_;
  return outcome;
}

}  // namespace forge::rl
