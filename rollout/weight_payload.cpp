#include "rollout/weight_payload.h"

#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"
#include "forge/v1/tensor.pb.h"
#include "rollout/proto_convert.h"
#include "rollout/weight_chunk_wire.h"
#include "rollout/weight_receiver.h"

namespace forge::rollout {

absl::StatusOr<WeightPayload> WeightPayload::build(
    const std::vector<std::pair<std::string, at::Tensor>>& tensors, int64_t version,
    int64_t chunk_bytes) {
  if (version < 0) {
    return absl::InvalidArgumentError(absl::StrCat("weight version must be >= 0 (got ", version, ")"));
  }
  if (chunk_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat("chunk_bytes must be >= 1 (got ", chunk_bytes, ")"));
  }
  WeightPayload p;
  p.version_ = version;
  for (const auto& [name, tensor] : tensors) {
    std::optional<forge::v1::DType> wire = dtype_to_wire(tensor.scalar_type());
    if (!wire.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor '", name, "': dtype ", c10::toString(tensor.scalar_type()), " cannot be sent"));
    }
    Tensor t;
    t.name = name;
    t.cpu = tensor.detach().to(at::kCPU).contiguous();
    t.wire_dtype = *wire;
    const int64_t bytes = t.cpu.numel() * static_cast<int64_t>(t.cpu.element_size());
    const int index = static_cast<int>(p.tensors_.size());
    // An empty tensor still sends one (empty) chunk, so the receiver sees it.
    for (int64_t off = 0; off < bytes || (bytes == 0 && off == 0); off += chunk_bytes) {
      p.chunks_.push_back({index, off, std::min(chunk_bytes, bytes - off), 0});
      if (bytes == 0) break;
    }
    p.total_bytes_ += bytes;
    p.tensors_.push_back(std::move(t));
  }
  at::parallel_for(0, static_cast<int64_t>(p.chunks_.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Chunk& c = p.chunks_[i];
      const char* base = static_cast<const char*>(p.tensors_[c.tensor].cpu.data_ptr());
      c.crc32 = chunk_crc32(std::string_view(base + c.offset, c.bytes));
    }
  });
  return p;
}

void WeightPayload::fill_header(size_t i, forge::v1::WeightChunk* out) const {
  const Chunk& c = chunks_.at(i);
  const Tensor& t = tensors_[c.tensor];
  out->Clear();
  out->set_version(version_);
  out->set_name(t.name);
  out->set_dtype(static_cast<forge::v1::DType>(t.wire_dtype));
  for (int64_t d : t.cpu.sizes()) out->add_shape(d);
  out->set_offset(c.offset);
  out->set_total_bytes(t.cpu.numel() * static_cast<int64_t>(t.cpu.element_size()));
  out->set_crc32(c.crc32);
  out->set_num_tensors(static_cast<int32_t>(tensors_.size()));
}

const char* WeightPayload::chunk_data(size_t i) const {
  const Chunk& c = chunks_.at(i);
  return static_cast<const char*>(tensors_[c.tensor].cpu.data_ptr()) + c.offset;
}

void WeightPayload::fill(size_t i, forge::v1::WeightChunk* out) const {
  fill_header(i, out);
  out->set_data(chunk_data(i), chunks_[i].bytes);
}

grpc::ByteBuffer WeightPayload::wire(size_t i) const {
  forge::v1::WeightChunk header;
  fill_header(i, &header);
  return encode_weight_chunk(header, chunk_data(i), chunks_[i].bytes);
}

}  // namespace forge::rollout
