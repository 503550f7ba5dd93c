// PromptSource: the trainer's stream of prompts. It walks a dataset in epochs; each epoch visits
// every example once, in an order shuffled from (seed, epoch) when shuffling is on, and a batch may
// run across an epoch boundary. Its position (epoch, index, seed) is saved in checkpoints; a source
// restored to a saved position hands out exactly the prompts a never-stopped source would have.
//
// The order depends only on (seed, epoch, dataset size) -- not on batch sizes or on how many
// batches came before -- and uses rl::Rng, so it is the same on every platform.
//
// A retired example (retire(): GRPO retires the prompts its policy answered right in every sample,
// trainer.retire_solved) is skipped wherever the order reaches it; the retired set is part of the
// position. When every example is retired, none is skipped.
//
// Thread-safety: not thread-safe; one owner (the trainer loop) calls it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rl/data/chat_template.h"
#include "rl/data/dataset.h"

namespace forge::rl {

struct DataSection;

struct DataPosition {
  int64_t epoch = 0;  // the current epoch, from 0
  int64_t index = 0;  // how many prompts of this epoch were handed out already
  uint64_t seed = 0;  // the shuffle seed
  int64_t size = 0;   // the dataset's size (checked on restore)
  std::vector<int64_t> retired;  // the retired examples' places in the dataset, ascending

  // {"epoch": 0, "index": 0, "seed": 1, "size": 100}, and "retired": [3, 17] when any is
  nlohmann::json to_json() const;
  // Errors name the missing or mistyped key.
  static absl::StatusOr<DataPosition> from_json(const nlohmann::json& j);
  friend bool operator==(const DataPosition& a, const DataPosition& b) {
    return a.epoch == b.epoch && a.index == b.index && a.seed == b.seed && a.size == b.size &&
           a.retired == b.retired;
  }
};

struct SourcedPrompt {
  Example example;   // the dataset line
  std::string text;  // the prompt after the chat template: what the policy continues
  std::string response_prefix;  // the end of `text` that belongs to the response ("<think>")
  int64_t epoch = 0;
  int64_t index = 0;  // position within the epoch's order
  int64_t dataset_index = 0;  // the example's place in the dataset
};

class PromptSource {
 public:
  // `examples` must not be empty.
  static absl::StatusOr<PromptSource> create(std::vector<Example> examples, ChatTemplate chat,
                                             uint64_t seed, bool shuffle);
  // Loads data.train with data.template and data.shuffle; `seed` is usually run.seed.
  static absl::StatusOr<PromptSource> from_config(const DataSection& data, uint64_t seed);

  // The next `batch_size` prompts (batch_size > 0; may be larger than the dataset).
  std::vector<SourcedPrompt> next_batch(int64_t batch_size);

  // Leaves the example at `dataset_index` out of every later batch. False, doing nothing, when it
  // was retired already or is out of range.
  bool retire(int64_t dataset_index);
  int64_t retired() const { return retired_count_; }

  DataPosition position() const;
  // Continues from `pos` (its seed replaces this source's). InvalidArgument when pos.size differs
  // from the dataset's size or pos is out of range.
  absl::Status restore(const DataPosition& pos);

  int64_t size() const { return static_cast<int64_t>(examples_.size()); }
  bool shuffle() const { return shuffle_; }
  const ChatTemplate& chat_template() const { return chat_; }
  const std::vector<Example>& examples() const { return examples_; }

 private:
  PromptSource(std::vector<Example> examples, ChatTemplate chat, uint64_t seed, bool shuffle);
  // order_ = the permutation of epoch_.
  void build_order();

  std::vector<Example> examples_;
  ChatTemplate chat_;
  uint64_t seed_;
  bool shuffle_;
  int64_t epoch_ = 0;
  int64_t index_ = 0;
  std::vector<int64_t> order_;
  std::vector<bool> retired_;  // [size()]
  int64_t retired_count_ = 0;
};

}  // namespace forge::rl
