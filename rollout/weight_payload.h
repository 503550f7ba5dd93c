// A weight update ready to send to any number of workers (UpdateWeights, tensor.proto): every named
// tensor as CPU contiguous bytes, cut into chunks of at most `chunk_bytes` whose crc32 is computed
// once, in parallel, when the payload is built. Tensors already on the CPU and contiguous are not
// copied: do not modify them until the pushes finish (a changed chunk fails its crc32 check on the
// worker, which then keeps its old weights).
// Thread-safety: immutable after build(); fill() and wire() may run concurrently for many streams.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/statusor.h"

namespace forge::v1 {
class WeightChunk;
}

namespace forge::rollout {

inline constexpr int64_t kDefaultChunkBytes = int64_t{4} << 20;

class WeightPayload {
 public:
  // Fails (naming the tensor) on a dtype the wire cannot carry. `version` must be >= 0.
  static absl::StatusOr<WeightPayload> build(
      const std::vector<std::pair<std::string, at::Tensor>>& tensors, int64_t version,
      int64_t chunk_bytes = kDefaultChunkBytes);

  int64_t version() const { return version_; }
  int64_t total_bytes() const { return total_bytes_; }
  int num_tensors() const { return static_cast<int>(tensors_.size()); }
  size_t num_chunks() const { return chunks_.size(); }
  // Writes chunk `i` (its bytes copied) into `out`.
  void fill(size_t i, forge::v1::WeightChunk* out) const;
  // Chunk `i` encoded for the wire (weight_chunk_wire.h) with its data pointing into this payload:
  // no copy; the payload must outlive the call that sends it.
  grpc::ByteBuffer wire(size_t i) const;

 private:
  struct Tensor {
    std::string name;
    at::Tensor cpu;  // contiguous
    int wire_dtype = 0;
  };
  struct Chunk {
    int tensor = 0;
    int64_t offset = 0;
    int64_t bytes = 0;
    uint32_t crc32 = 0;
  };
  // Every field of chunk `i` but `data`.
  void fill_header(size_t i, forge::v1::WeightChunk* out) const;
  const char* chunk_data(size_t i) const;

  std::vector<Tensor> tensors_;
  std::vector<Chunk> chunks_;
  int64_t version_ = 0;
  int64_t total_bytes_ = 0;
};

}  // namespace forge::rollout
