#include "rl/trainer/rollout_prefetch.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace forge::rl {

struct RolloutPrefetch::Round {
  CollectRound round;
  DataPosition from;  // the source's position before the draw
  std::thread thread;
  bool started = false;
  absl::Status status;  // of the generation thread; read after join
};

RolloutPrefetch::RolloutPrefetch(Collector& collector, PromptSource& prompts, int max_staleness,
                                 int64_t total_steps, int64_t batch_size)
    : collector_(collector),
      prompts_(prompts),
      max_staleness_(max_staleness),
      total_steps_(total_steps),
      batch_size_(batch_size) {}

RolloutPrefetch::~RolloutPrefetch() {
  for (auto& [step, r] : rounds_) {
    if (r->thread.joinable()) r->thread.join();
  }
}

void RolloutPrefetch::start(Round& r) {
  r.started = true;
  Round* p = &r;
  r.thread = std::thread([this, p] {
    try {
      p->status = collector_.generate(p->round);
    } catch (const std::exception& e) {
      p->status = absl::InternalError(absl::StrCat("generation ahead failed: ", e.what()));
    }
  });
}

void RolloutPrefetch::admit(int64_t version) {
  const int64_t last = std::min(total_steps_, version + 1 + max_staleness_);
  if (next_step_ < 0) next_step_ = version + 1;
  for (auto& [step, r] : rounds_) {  // restored from a checkpoint
    if (step <= last && !r->started) start(*r);
  }
  if (max_staleness_ == 0) return;
  for (; next_step_ <= last; ++next_step_) {
    auto r = std::make_unique<Round>();
    r->from = prompts_.position();
    r->round = collector_.draw(next_step_, 0, batch_size_);
    start(*r);
    rounds_[next_step_] = std::move(r);
  }
}

absl::StatusOr<std::optional<CollectRound>> RolloutPrefetch::take(int64_t step) {
  auto it = rounds_.find(step);
  if (it == rounds_.end()) return std::optional<CollectRound>();
  std::unique_ptr<Round> r = std::move(it->second);
  rounds_.erase(it);
  taken_[step] = entry(step, *r);
  if (!r->started) start(*r);
  r->thread.join();
  if (!r->status.ok()) return r->status;
  return std::optional<CollectRound>(std::move(r->round));
}

void RolloutPrefetch::done(int64_t step) { taken_.erase(step); }

nlohmann::json RolloutPrefetch::entry(int64_t step, const Round& r) {
  return {{"step", step}, {"from", r.from.to_json()}, {"want", r.round.want}};
}

nlohmann::json RolloutPrefetch::in_flight() const {
  std::map<int64_t, nlohmann::json> by_step = taken_;
  for (const auto& [step, r] : rounds_) by_step[step] = entry(step, *r);
  nlohmann::json out = nlohmann::json::array();
  for (auto& [step, e] : by_step) out.push_back(std::move(e));
  return out;
}

absl::Status RolloutPrefetch::restore(const nlohmann::json& in_flight) {
  if (!in_flight.is_array()) return absl::InvalidArgumentError("in_flight: expected an array");
  for (const nlohmann::json& entry : in_flight) {
    if (!entry.is_object() || !entry.contains("step") || !entry["step"].is_number_integer() ||
        !entry.contains("want") || !entry["want"].is_number_integer() || !entry.contains("from")) {
      return absl::InvalidArgumentError(
          absl::StrCat("in_flight: bad entry ", entry.dump(), " (needs step, want, from)"));
    }
    ASSIGN_OR_RETURN(const DataPosition from, DataPosition::from_json(entry["from"]));
    RETURN_IF_ERROR(prompts_.restore(from));
    const int64_t step = entry["step"].get<int64_t>();
    auto r = std::make_unique<Round>();
    r->from = from;
    r->round = collector_.draw(step, 0, entry["want"].get<int64_t>());
    rounds_[step] = std::move(r);
    next_step_ = std::max(next_step_, step + 1);
  }
  return absl::OkStatus();
}

}  // namespace forge::rl
