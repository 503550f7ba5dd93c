#include "policy/kv_cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace forge::policy {

absl::StatusOr<KvCache> KvCache::create(const ModelConfig& config, const Options& options) {
  KvCache cache;
  cache.max_seq_len_ = options.max_seq_len > 0 ? options.max_seq_len : config.max_position_embeddings;
  if (cache.max_seq_len_ > config.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kv cache max_seq_len ", cache.max_seq_len_, " exceeds max_position_embeddings ",
        config.max_position_embeddings));
  }
  cache.row_dim_ = config.kv_cache_row_dim();
  cache.form_ = config.traits().attention;
  cache.element_size_ = static_cast<int64_t>(c10::elementSize(options.dtype));
  cache.layers_.resize(config.num_hidden_layers);
  int64_t slots = options.budget_bytes / cache.bytes_per_slot();
  if (options.max_slots > 0) slots = std::min<int64_t>(slots, options.max_slots);
  if (slots < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kv cache budget_bytes ", options.budget_bytes, " is below one slot (",
        cache.bytes_per_slot(), " bytes for ", cache.max_seq_len_, " tokens)"));
  }
  for (at::Tensor& layer : cache.layers_) {
    layer = at::zeros({slots * cache.max_seq_len_, cache.row_dim_},
                      at::TensorOptions().dtype(options.dtype).device(options.device));
  }
  cache.used_.assign(slots, false);
  cache.lengths_.assign(slots, 0);
  cache.high_water_.assign(slots, 0);
  return cache;
}

int64_t KvCache::bytes_per_token() const {
  return static_cast<int64_t>(layers_.size()) * row_dim_ * element_size_;
}

int KvCache::num_free() const {
  return static_cast<int>(std::count(used_.begin(), used_.end(), false));
}

std::optional<int> KvCache::alloc() {
  for (int s = 0; s < capacity(); ++s) {
    if (used_[s]) continue;
    if (high_water_[s] > 0) {
      for (at::Tensor& layer : layers_) {
        layer.narrow(0, static_cast<int64_t>(s) * max_seq_len_, high_water_[s]).zero_();
      }
      high_water_[s] = 0;
    }
    used_[s] = true;
    lengths_[s] = 0;
    return s;
  }
  return std::nullopt;
}

void KvCache::check_slot(int slot) const {
  TORCH_CHECK(slot >= 0 && slot < capacity(), "kv cache slot ", slot, " out of range [0, ",
              capacity(), ")");
  TORCH_CHECK(used_[slot], "kv cache slot ", slot, " is not allocated");
}

void KvCache::free(int slot) {
  check_slot(slot);
  used_[slot] = false;
  lengths_[slot] = 0;
}

bool KvCache::allocated(int slot) const {
  return slot >= 0 && slot < capacity() && used_[slot];
}

int KvCache::length(int slot) const {
  check_slot(slot);
  return lengths_[slot];
}

void KvCache::set_length(int slot, int length) {
  check_slot(slot);
  TORCH_CHECK(length >= 0 && length <= max_seq_len_, "kv cache slot ", slot, ": length ", length,
              " outside [0, ", max_seq_len_, "]");
  lengths_[slot] = length;
  high_water_[slot] = std::max(high_water_[slot], length);
}

}  // namespace forge::policy
