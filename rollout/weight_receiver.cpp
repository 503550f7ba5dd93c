#include "rollout/weight_receiver.h"

#include <algorithm>
#include <cstring>

#include <ATen/core/grad_mode.h>
#if FORGE_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge::rollout {
namespace {

std::string shape_str(c10::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) absl::StrAppend(&out, i ? ", " : "", shape[i]);
  return out + "]";
}

}  // namespace

uint32_t chunk_crc32(std::string_view data, uint32_t previous) {
#if FORGE_HAVE_LIBDEFLATE
  return libdeflate_crc32(previous, data.data(), data.size());
#else
  uLong crc = previous;
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  while (left > 0) {  // zlib takes uInt lengths
    const uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
#endif
}

WeightReceiver::WeightReceiver(std::shared_ptr<WeightSet> target) : target_(std::move(target)) {
  for (auto& [name, tensor] : target_->model->named_tensors()) {
    Slot slot;
    slot.target = tensor;
    slots_.emplace(name, std::move(slot));
    order_.push_back(name);
  }
}

absl::Status WeightReceiver::add(const WeightChunkView& c) {
  const std::string name(c.name);
  auto invalid = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("weight update: tensor '", name, "': ", why));
  };
  if (c.version < 0) return invalid(absl::StrCat("version must be >= 0 (got ", c.version, ")"));
  if (version_ < 0) {
    version_ = c.version;
    num_tensors_ = c.num_tensors;
    if (num_tensors_ != static_cast<int32_t>(slots_.size())) {
      return invalid(absl::StrCat("num_tensors is ", c.num_tensors, " but the model has ",
                                  slots_.size(), " tensors (an update carries all of them)"));
    }
  } else if (c.version != version_) {
    return invalid(absl::StrCat("version ", c.version, " differs from the stream's version ", version_));
  } else if (c.num_tensors != num_tensors_) {
    return invalid(absl::StrCat("num_tensors ", c.num_tensors, " differs from the stream's ", num_tensors_));
  }
  auto it = slots_.find(c.name);
  if (it == slots_.end()) return invalid("not a tensor of this model");
  Slot& slot = it->second;
  if (c.dtype == at::ScalarType::Undefined || !at::isFloatingType(c.dtype)) {
    return invalid("unsupported dtype (send FLOAT32, BFLOAT16 or FLOAT16)");
  }
  if (c.shape != slot.target.sizes()) {
    return invalid(absl::StrCat("shape ", shape_str(c.shape), " but the model's is ",
                                shape_str(slot.target.sizes())));
  }
  const int64_t expected_bytes = slot.target.numel() * static_cast<int64_t>(c10::elementSize(c.dtype));
  if (c.total_bytes != expected_bytes) {
    return invalid(absl::StrCat("total_bytes ", c.total_bytes, " but ", c10::toString(c.dtype), " ",
                                shape_str(c.shape), " is ", expected_bytes, " bytes"));
  }
  if (slot.complete) return invalid("sent twice");
  if (slot.total >= 0 && c.dtype != slot.wire_dtype) {
    return invalid("dtype changes between chunks");
  }
  if (c.offset != slot.received) {
    return absl::DataLossError(absl::StrCat(
        "weight update: tensor '", name, "': chunk at byte offset ", c.offset, ", expected ",
        slot.received, " (a chunk is missing or out of order)"));
  }
  int64_t len = 0;
  for (std::string_view piece : c.data) len += static_cast<int64_t>(piece.size());
  if (c.offset + len > c.total_bytes) {
    return invalid(absl::StrCat("chunk [", c.offset, ", ", c.offset + len, ") runs past the tensor's ",
                                c.total_bytes, " bytes"));
  }
  if (slot.total < 0) {
    slot.total = c.total_bytes;
    slot.wire_dtype = c.dtype;
    const at::Tensor& t = slot.target;
    const bool direct = t.device().is_cpu() && t.scalar_type() == c.dtype && t.is_contiguous();
    if (!direct) slot.staging = at::empty(t.sizes(), at::TensorOptions().dtype(c.dtype));
  }
  // Check and copy each 64 KiB block while it is in cache. A chunk that fails its check has
  // written into the spare set only, which is never published with a gap (slot.received).
  constexpr size_t kBlock = size_t{64} << 10;
  at::Tensor& dst = slot.staging.defined() ? slot.staging : slot.target;
  char* out = static_cast<char*>(dst.data_ptr()) + c.offset;
  uint32_t crc = 0;
  for (std::string_view piece : c.data) {
    for (size_t at = 0; at < piece.size(); at += kBlock) {
      const std::string_view block = piece.substr(at, kBlock);
      crc = chunk_crc32(block, crc);
      std::memcpy(out, block.data(), block.size());
      out += block.size();
    }
  }
  if (crc != c.crc32) {
    return absl::DataLossError(absl::StrFormat(
        "weight update: tensor '%s': chunk at byte offset %d fails its crc32 check (sent %08x, "
        "data has %08x)",
        name, c.offset, c.crc32, crc));
  }
  slot.received += len;
  bytes_received_ += len;
  if (slot.received == slot.total) {
    if (slot.staging.defined()) {
      at::NoGradGuard no_grad;
      slot.target.copy_(slot.staging);
      slot.staging = at::Tensor();
    }
    slot.complete = true;
    ++tensors_completed_;
  }
  return absl::OkStatus();
}

absl::Status WeightReceiver::finish() {
  if (version_ < 0) return absl::InvalidArgumentError("weight update: the stream carried no chunks");
  if (tensors_completed_ == static_cast<int>(slots_.size())) return absl::OkStatus();
  int missing = 0;
  std::string first;
  for (const std::string& name : order_) {
    const Slot& slot = slots_.at(name);
    if (slot.complete) continue;
    if (missing++ == 0) {
      first = slot.total < 0 ? absl::StrCat("tensor '", name, "' never arrived")
                             : absl::StrCat("tensor '", name, "' has ", slot.received, " of ",
                                            slot.total, " bytes");
    }
  }
  return absl::DataLossError(absl::StrCat("weight update incomplete: ", tensors_completed_, " of ",
                                          slots_.size(), " tensors arrived whole; ", first,
                                          missing > 1 ? absl::StrCat(" (and ", missing - 1, " more)") : ""));
}

}  // namespace forge::rollout
