// Assembles one weight update (a stream of WeightChunks, see tensor.proto) into a spare WeightSet,
// checking every chunk on arrival and the whole set at the end:
//  * INVALID_ARGUMENT (a malformed update): a negative or changing version, a num_tensors that is
//    not the model's tensor count, an unknown tensor name, a shape other than the model's, an
//    unsupported or non-floating dtype, total_bytes that disagree with dtype x shape, a tensor sent
//    twice, a chunk running past its tensor's end;
//  * DATA_LOSS (a damaged or partial stream): a chunk whose crc32 does not match its data, a chunk
//    at an unexpected offset (one missing or out of order), and at finish() any tensor that did not
//    arrive whole. Every message names the tensor.
// Nothing is visible to requests until the engine publishes the set (WeightStore::publish), so any
// failure leaves the served weights untouched. Values are converted to the model's dtype/device.
// Thread-safety: not thread-safe; one stream feeds one receiver.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "rollout/weight_store.h"

namespace forge::rollout {

// One chunk as read off the wire (the data is borrowed, in one or more pieces).
struct WeightChunkView {
  int64_t version = 0;
  std::string_view name;
  at::ScalarType dtype = at::ScalarType::Undefined;  // Undefined: unsupported / unspecified
  c10::IntArrayRef shape;
  int64_t offset = 0;
  int64_t total_bytes = 0;
  std::vector<std::string_view> data;  // the chunk's bytes: the pieces in order
  uint32_t crc32 = 0;
  int32_t num_tensors = 0;
};

// The CRC-32 (zlib's polynomial) of `data`, the checksum the chunks carry, by libdeflate when
// installed, else zlib; pass the CRC of the bytes before `data`
// as `crc` to extend it.
uint32_t chunk_crc32(std::string_view data, uint32_t crc = 0);

class WeightReceiver {
 public:
  explicit WeightReceiver(std::shared_ptr<WeightSet> target);
  WeightReceiver(const WeightReceiver&) = delete;
  WeightReceiver& operator=(const WeightReceiver&) = delete;

  absl::Status add(const WeightChunkView& chunk);
  // OK when every tensor of the model arrived whole.
  absl::Status finish();

  int64_t version() const { return version_; }
  int64_t bytes_received() const { return bytes_received_; }
  int tensors_completed() const { return tensors_completed_; }
  const std::shared_ptr<WeightSet>& target() const { return target_; }

 private:
  struct Slot {
    at::Tensor target;   // the model's tensor (aliases its storage)
    at::Tensor staging;  // CPU, wire dtype; used when the bytes cannot go straight into `target`
    at::ScalarType wire_dtype = at::ScalarType::Undefined;
    int64_t received = 0;
    int64_t total = -1;   // -1: no chunk yet
    bool complete = false;
  };

  std::shared_ptr<WeightSet> target_;
  std::map<std::string, Slot, std::less<>> slots_;
  std::vector<std::string> order_;  // model order, for naming missing tensors
  int64_t version_ = -1;            // -1: no chunk yet
  int32_t num_tensors_ = 0;
  int64_t bytes_received_ = 0;
  int tensors_completed_ = 0;
};

}  // namespace forge::rollout
