// WeightChunk (tensor.proto) on the wire without copying its `data`, for UpdateWeights' raw
// (grpc::ByteBuffer) paths. The bytes are the standard protobuf encoding, so either side may be an
// ordinary generated client or server (Python, the C++ stubs): only Forge's two ends skip the copies.
//  * encode: the chunk's small fields serialized by protobuf, then field 7 (`data`) as a slice that
//    points at the caller's memory (no copy; it must stay valid until the call ends).
//  * decode: walks the message's top-level fields; `data` stays in gRPC's receive slices (views in
//    `data`, possibly several pieces) and every other field is parsed by protobuf.
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include "absl/status/status.h"
#include "forge/v1/tensor.pb.h"
#include "rollout/weight_receiver.h"

namespace forge::rollout {

// `header` must have an empty `data`; the result's data is [data, data + size).
grpc::ByteBuffer encode_weight_chunk(const forge::v1::WeightChunk& header, const char* data,
                                     size_t size);

struct DecodedWeightChunk {
  forge::v1::WeightChunk header;         // every field but `data` (left empty)
  std::vector<std::string_view> data;    // `data`'s bytes, in order, viewing `slices`
  std::vector<grpc::Slice> slices;       // keeps the received bytes alive
};

// The receiver's view of a chunk: `fields`' metadata (its `data` ignored) with `data` as the bytes.
// Borrows from both.
WeightChunkView weight_chunk_view(const forge::v1::WeightChunk& fields,
                                  std::vector<std::string_view> data);

// INVALID_ARGUMENT when the bytes are not a WeightChunk message (truncated, a group, a field that
// protobuf refuses); `out` is overwritten.
absl::Status decode_weight_chunk(const grpc::ByteBuffer& buffer, DecodedWeightChunk* out);

}  // namespace forge::rollout
