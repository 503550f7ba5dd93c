// The KV cache for decoding: a pool of fixed-size slots, one sequence per slot. Each slot holds,
// for every layer and each of up to max_seq_len tokens, the token's cache row
// (ModelConfig::kv_cache_row_dim()), in the attention's own form:
//  * MLA (DeepSeek-V2/V3): the latent kv_a_layernorm(c_kv) ++ rope(k_pe), kv_lora_rank +
//    qk_rope_head_dim values (DeepSeek-V2 §2.1.2), decoded by absorbed attention;
//  * GQA (Qwen, Llama): the roped keys and the values of every key/value head, 2 * KV * head_dim.
// The number of slots is derived from a byte budget. The rollout engine allocates a slot when a
// sequence joins, Model::prefill fills it, Model::decode_step appends one token per step, and the
// engine frees the slot when the sequence leaves; slots of different lengths decode together.
//
// Storage: per layer one tensor [capacity * max_seq_len, row_dim]; token t of slot s is row
// s * max_seq_len + t. alloc() zeroes the rows a previous occupant wrote, so stale values never reach
// a new sequence (masked positions multiply by exactly 0).
// Thread-safety: not thread-safe; one engine thread owns a cache.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/statusor.h"
#include "policy/model_config.h"

namespace forge::policy {

class KvCache {
 public:
  struct Options {
    int64_t budget_bytes = int64_t{256} << 20;  // total bytes for all slots
    int max_seq_len = 0;                        // tokens per slot; 0 = max_position_embeddings
    int max_slots = 0;                          // cap on slots; 0 = as many as the budget allows
    at::ScalarType dtype = at::kFloat;
    at::Device device = at::kCPU;
  };

  // Fails (naming the option) when the budget cannot hold one slot or max_seq_len is out of range.
  static absl::StatusOr<KvCache> create(const ModelConfig& config, const Options& options);

  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  int capacity() const { return static_cast<int>(used_.size()); }
  int max_seq_len() const { return max_seq_len_; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  int num_free() const;
  AttentionKind form() const { return form_; }                // latents (MLA) or K/V (GQA)
  int64_t row_dim() const { return row_dim_; }                 // values per token per layer
  int64_t bytes_per_token() const;                            // all layers
  int64_t bytes_per_slot() const { return bytes_per_token() * max_seq_len_; }

  // The lowest free slot (length 0), or nullopt when all are taken.
  std::optional<int> alloc();
  void free(int slot);  // TORCH_CHECKs that the slot is allocated
  bool allocated(int slot) const;
  int length(int slot) const;  // tokens stored in an allocated slot

  // For the model: layer l's storage [capacity * max_seq_len, row_dim], and the slot length update.
  at::Tensor& layer(int l) { return layers_[l]; }
  void set_length(int slot, int length);
  void check_slot(int slot) const;  // TORCH_CHECKs range and allocation

 private:
  KvCache() = default;

  std::vector<at::Tensor> layers_;
  std::vector<bool> used_;
  std::vector<int> lengths_;
  std::vector<int> high_water_;  // rows ever written per slot since its last zeroing
  int max_seq_len_ = 0;
  int64_t row_dim_ = 0;
  AttentionKind form_ = AttentionKind::kMla;
  int64_t element_size_ = 4;
};

}  // namespace forge::policy
