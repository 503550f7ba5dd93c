// Asynchronous GRPO's generation ahead of training (rollout.max_staleness = k > 0).
//
// Admission control: the first round of step s (trainer.batch_size prompts) is drawn and sent to
// the GenerationBackend as soon as policy version s - 1 - k is published (admit(version), called
// after every publish), on a thread of its own that also grades it; the training loop takes it
// when it collects step s (take(s)). So while step t trains, steps t+1 .. t+k generate, and a
// sample's first token comes from version s - 1 - k or later while it trains against version
// s - 1: no sample is more than k versions old, and nothing is generated and then dropped as too
// old. The further rounds of dynamic sampling are generated when their step is collected, from
// the weights of that moment.
//
// Draws happen on the training thread at fixed points of the loop (after each publish), so every
// rank draws the same prompts and the data order depends on the steps only, never on timing.
// A checkpoint saves the rounds drawn but not yet trained on (in_flight(): where each was drawn
// from); restore() draws those prompts again, and they are generated once more, from the
// checkpoint's weights: a resumed run neither skips nor repeats a prompt.
// With k = 0 nothing is drawn ahead (take() answers nullopt and the Collector generates as it
// always did) except the rounds a checkpoint of an asynchronous run had in flight.
// Thread-safety: one thread (the training loop) calls it; generation runs on threads of its own.
// The destructor waits for the rounds still generating.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "rl/data/prompt_source.h"
#include "rl/trainer/collect_stage.h"

namespace forge::rl {

class RolloutPrefetch {
 public:
  RolloutPrefetch(Collector& collector, PromptSource& prompts, int max_staleness,
                  int64_t total_steps, int64_t batch_size);
  ~RolloutPrefetch();
  RolloutPrefetch(const RolloutPrefetch&) = delete;
  RolloutPrefetch& operator=(const RolloutPrefetch&) = delete;

  // Version `version` is published: starts generating every round it admits (steps up to
  // version + 1 + max_staleness, at most trainer.total_steps), drawing those not drawn yet.
  void admit(int64_t version);

  // Step `step`'s first round, generated and graded (waits for it); nullopt when none was drawn
  // ahead for it. Errors: its generation or grading failed.
  absl::StatusOr<std::optional<CollectRound>> take(int64_t step);
  // Step `step` trained: its round is no longer in flight (until then a checkpoint names it, so a
  // step abandoned after take() is generated again on resume).
  void done(int64_t step);

  // The rounds drawn for steps not trained yet: [{"step", "from" (the data position before the
  // draw), "want"}], by step.
  nlohmann::json in_flight() const;
  // Draws the rounds `in_flight` names again (they start generating at the next admit()); the
  // caller then restores the source to the checkpoint's position. Errors name the bad entry.
  absl::Status restore(const nlohmann::json& in_flight);

 private:
  struct Round;
  void start(Round& round);
  static nlohmann::json entry(int64_t step, const Round& round);

  Collector& collector_;
  PromptSource& prompts_;
  const int max_staleness_;
  const int64_t total_steps_;
  const int64_t batch_size_;
  int64_t next_step_ = -1;  // the next step to draw ahead; -1 = the first admit's version + 1
  std::map<int64_t, std::unique_ptr<Round>> rounds_;  // by step
  std::map<int64_t, nlohmann::json> taken_;           // step -> its in_flight() entry
};

}  // namespace forge::rl
