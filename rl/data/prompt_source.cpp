#include "rl/data/prompt_source.h"

#include <numeric>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rl/config/run_config.h"
#include "rl/data/rng.h"

namespace forge::rl {

nlohmann::json DataPosition::to_json() const {
  nlohmann::json j = {{"epoch", epoch}, {"index", index}, {"seed", seed}, {"size", size}};
  if (!retired.empty()) j["retired"] = retired;
  return j;
}

absl::StatusOr<DataPosition> DataPosition::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("data position: expected a JSON object");
  DataPosition p;
  for (const char* key : {"epoch", "index", "seed", "size"}) {
    if (!j.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat("data position: missing '", key, "'"));
    }
    if (!j.at(key).is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat("data position: '", key, "' must be an integer"));
    }
  }
  p.epoch = j.at("epoch").get<int64_t>();
  p.index = j.at("index").get<int64_t>();
  p.seed = j.at("seed").get<uint64_t>();
  p.size = j.at("size").get<int64_t>();
  if (j.contains("retired")) {  // a position saved with no retired example has none
    const nlohmann::json& retired = j.at("retired");
    if (!retired.is_array()) {
      return absl::InvalidArgumentError("data position: 'retired' must be an array");
    }
    for (const nlohmann::json& e : retired) {
      if (!e.is_number_integer()) {
        return absl::InvalidArgumentError("data position: 'retired' must hold integers");
      }
      p.retired.push_back(e.get<int64_t>());
    }
  }
  return p;
}

PromptSource::PromptSource(std::vector<Example> examples, ChatTemplate chat, uint64_t seed,
                           bool shuffle)
    : examples_(std::move(examples)),
      chat_(std::move(chat)),
      seed_(seed),
      shuffle_(shuffle),
      retired_(examples_.size(), false) {
  build_order();
}

absl::StatusOr<PromptSource> PromptSource::create(std::vector<Example> examples,
                                                  ChatTemplate chat, uint64_t seed, bool shuffle) {
  if (examples.empty()) return absl::InvalidArgumentError("prompt source: the dataset is empty");
  return PromptSource(std::move(examples), std::move(chat), seed, shuffle);
}

absl::StatusOr<PromptSource> PromptSource::from_config(const DataSection& data, uint64_t seed) {
  if (data.train.empty()) return absl::InvalidArgumentError("data.train: no dataset given");
  ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::create(data.template_name));
  ASSIGN_OR_RETURN(std::vector<Example> examples, load_jsonl(data.train));
  return create(std::move(examples), std::move(chat), seed, data.shuffle);
}

void PromptSource::build_order() {
  order_.resize(examples_.size());
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (shuffle_) {
    Rng rng(Rng::mix(seed_, static_cast<uint64_t>(epoch_)));
    rng.shuffle(order_);
  }
}

std::vector<SourcedPrompt> PromptSource::next_batch(int64_t batch_size) {
  std::vector<SourcedPrompt> batch;
  batch.reserve(static_cast<size_t>(std::max<int64_t>(batch_size, 0)));
  const bool skip_retired = retired_count_ < size();
  while (static_cast<int64_t>(batch.size()) < batch_size) {
    if (index_ == size()) {
      ++epoch_;
      index_ = 0;
      build_order();
    }
    const int64_t at = order_[static_cast<size_t>(index_)];
    if (!skip_retired || !retired_[static_cast<size_t>(at)]) {
      const Example& e = examples_[static_cast<size_t>(at)];
      batch.push_back({e, chat_.render(e.prompt), chat_.response_prefix(), epoch_, index_, at});
    }
    ++index_;
  }
  return batch;
}

bool PromptSource::retire(int64_t dataset_index) {
  if (dataset_index < 0 || dataset_index >= size()) return false;
  std::vector<bool>::reference retired = retired_[static_cast<size_t>(dataset_index)];
  if (retired) return false;
  retired = true;
  ++retired_count_;
  return true;
}

DataPosition PromptSource::position() const {
  DataPosition p;
  p.epoch = epoch_;
  p.index = index_;
  p.seed = seed_;
  p.size = size();
  for (int64_t e = 0; e < size(); ++e) {
    if (retired_[static_cast<size_t>(e)]) p.retired.push_back(e);
  }
  return p;
}

absl::Status PromptSource::restore(const DataPosition& pos) {
  if (pos.size != size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data position: saved for a dataset of ", pos.size, " examples, this one has ", size()));
  }
  if (pos.epoch < 0 || pos.index < 0 || pos.index > size()) {
    return absl::InvalidArgumentError(absl::StrCat("data position: epoch ", pos.epoch, " index ",
                                                   pos.index, " is out of range"));
  }
  for (int64_t e : pos.retired) {
    if (e < 0 || e >= size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("data position: retired example ", e, " is out of range"));
    }
  }
  retired_.assign(examples_.size(), false);
  retired_count_ = 0;
  for (int64_t e : pos.retired) retire(e);
  seed_ = pos.seed;
  epoch_ = pos.epoch;
  index_ = pos.index;
  build_order();
  return absl::OkStatus();
}

}  // namespace forge::rl
