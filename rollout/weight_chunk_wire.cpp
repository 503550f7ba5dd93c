#include "rollout/weight_chunk_wire.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "rollout/proto_convert.h"

namespace forge::rollout {
namespace {

constexpr uint32_t kDataField = forge::v1::WeightChunk::kDataFieldNumber;
constexpr uint32_t kLengthDelimited = 2;

void append_varint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads bytes in order across a message's slices.
class SliceCursor {
 public:
  explicit SliceCursor(const std::vector<grpc::Slice>& slices) : slices_(slices) { skip_empty(); }

  bool at_end() const { return index_ == slices_.size(); }

  bool read_byte(uint8_t* b) {
    if (at_end()) return false;
    *b = slices_[index_].begin()[offset_];
    advance(1);
    return true;
  }
  // Reads a varint, appending its raw bytes to `raw` when given.
  bool read_varint(uint64_t* v, std::string* raw) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = 0;
      if (!read_byte(&b)) return false;
      if (raw != nullptr) raw->push_back(static_cast<char>(b));
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;  // more than 10 bytes
  }
  // Takes the next `n` bytes as views (appended to `pieces`) or copies (appended to `raw`).
  bool take(uint64_t n, std::vector<std::string_view>* pieces, std::string* raw) {
    while (n > 0) {
      if (at_end()) return false;
      const grpc::Slice& s = slices_[index_];
      const size_t len = std::min<uint64_t>(n, s.size() - offset_);
      const char* p = reinterpret_cast<const char*>(s.begin()) + offset_;
      if (pieces != nullptr) pieces->emplace_back(p, len);
      if (raw != nullptr) raw->append(p, len);
      advance(len);
      n -= len;
    }
    return true;
  }

 private:
  void advance(size_t n) {
    offset_ += n;
    if (offset_ == slices_[index_].size()) {
      ++index_;
      offset_ = 0;
      skip_empty();
    }
  }
  void skip_empty() {
    while (index_ < slices_.size() && slices_[index_].size() == 0) ++index_;
  }

  const std::vector<grpc::Slice>& slices_;
  size_t index_ = 0;
  size_t offset_ = 0;
};

}  // namespace

grpc::ByteBuffer encode_weight_chunk(const forge::v1::WeightChunk& header, const char* data,
                                     size_t size) {
  std::string head = header.SerializeAsString();
  append_varint((kDataField << 3) | kLengthDelimited, &head);
  append_varint(size, &head);
  grpc::Slice slices[2] = {grpc::Slice(head),
                           grpc::Slice(data, size, grpc::Slice::STATIC_SLICE)};
  return grpc::ByteBuffer(slices, size > 0 ? 2 : 1);
}

WeightChunkView weight_chunk_view(const forge::v1::WeightChunk& fields,
                                  std::vector<std::string_view> data) {
  WeightChunkView v;
  v.version = fields.version();
  v.name = fields.name();
  v.dtype = dtype_from_wire(fields.dtype());
  v.shape = c10::IntArrayRef(fields.shape().data(), fields.shape_size());
  v.offset = fields.offset();
  v.total_bytes = fields.total_bytes();
  v.data = std::move(data);
  v.crc32 = fields.crc32();
  v.num_tensors = fields.num_tensors();
  return v;
}

absl::Status decode_weight_chunk(const grpc::ByteBuffer& buffer, DecodedWeightChunk* out) {
  out->header.Clear();
  out->data.clear();
  out->slices.clear();
  auto malformed = [](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed WeightChunk message: ", why));
  };
  if (!buffer.Dump(&out->slices).ok()) return malformed("unreadable buffer");
  SliceCursor cursor(out->slices);
  std::string others;  // every field but `data`, still encoded
  while (!cursor.at_end()) {
    const size_t field_start = others.size();
    uint64_t tag = 0;
    if (!cursor.read_varint(&tag, &others)) return malformed("truncated field tag");
    const uint64_t field = tag >> 3;
    const uint32_t wire_type = tag & 7;
    if (field == kDataField && wire_type == kLengthDelimited) {
      others.resize(field_start);
      uint64_t len = 0;
      if (!cursor.read_varint(&len, nullptr)) return malformed("truncated data length");
      out->data.clear();  // protobuf semantics: the last occurrence wins
      if (!cursor.take(len, &out->data, nullptr)) return malformed("data runs past the message's end");
      continue;
    }
    bool ok = true;
    switch (wire_type) {
      case 0: {  // varint
        uint64_t v = 0;
        ok = cursor.read_varint(&v, &others);
        break;
      }
      case 1:  // 64-bit
        ok = cursor.take(8, nullptr, &others);
        break;
      case 2: {  // length-delimited
        uint64_t len = 0;
        ok = cursor.read_varint(&len, &others) && cursor.take(len, nullptr, &others);
        break;
      }
      case 5:  // 32-bit
        ok = cursor.take(4, nullptr, &others);
        break;
      default:
        return malformed(absl::StrCat("field ", field, " has wire type ", wire_type,
                                      ", which WeightChunk never uses"));
    }
    if (!ok) return malformed(absl::StrCat("field ", field, " is truncated"));
  }
  if (!out->header.ParseFromString(others)) return malformed("protobuf could not parse its fields");
  return absl::OkStatus();
}

}  // namespace forge::rollout
