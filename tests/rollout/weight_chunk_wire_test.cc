// UpdateWeights' raw encoding (weight_chunk_wire.h) must be the protobuf WeightChunk on the wire:
// what Forge's client sends parses with any generated parser, and what any generated client sends
// (fields in any order, split across any slices, unknown fields included) decodes to the same chunk.
#include "rollout/weight_chunk_wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rollout/weight_payload.h"
#include "test_util.h"

namespace forge::rollout {
namespace {

std::string joined(const std::vector<std::string_view>& pieces) {
  std::string out;
  for (std::string_view p : pieces) out.append(p);
  return out;
}

std::string flat(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// `bytes` as a ByteBuffer of slices of `slice_bytes` each.
grpc::ByteBuffer sliced(const std::string& bytes, size_t slice_bytes) {
  std::vector<grpc::Slice> slices;
  for (size_t at = 0; at < bytes.size(); at += slice_bytes) {
    slices.emplace_back(bytes.data() + at, std::min(slice_bytes, bytes.size() - at));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

WeightPayload test_payload() {
  policy::Model model = testing::test_model(testing::kSeedA);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& [name, t] : model->named_tensors()) tensors.emplace_back(name, t.clone());
  auto payload = WeightPayload::build(tensors, 3, 10000);
  EXPECT_TRUE(payload.ok()) << payload.status();
  return std::move(payload).value();
}

TEST(WeightChunkWire, ForgesEncodingIsTheProtobufMessage) {
  WeightPayload payload = test_payload();
  for (size_t i = 0; i < payload.num_chunks(); ++i) {
    forge::v1::WeightChunk expected, parsed;
    payload.fill(i, &expected);
    ASSERT_TRUE(parsed.ParseFromString(flat(payload.wire(i)))) << i;
    EXPECT_EQ(parsed.SerializeAsString(), expected.SerializeAsString()) << i;

    DecodedWeightChunk decoded;
    ASSERT_TRUE(decode_weight_chunk(payload.wire(i), &decoded).ok()) << i;
    EXPECT_EQ(joined(decoded.data), expected.data()) << i;
    expected.clear_data();
    EXPECT_EQ(decoded.header.SerializeAsString(), expected.SerializeAsString()) << i;
  }
}

TEST(WeightChunkWire, AnyClientsEncodingDecodesWhateverTheSlices) {
  forge::v1::WeightChunk chunk;
  chunk.set_version(5);
  chunk.set_name("model.layers.0.mlp.gate_proj.weight");
  chunk.set_dtype(forge::v1::FLOAT32);
  chunk.add_shape(4);
  chunk.add_shape(300);
  chunk.set_total_bytes(4800);
  chunk.set_offset(1200);
  chunk.set_data(std::string(1200, '\x5a') + "tail");
  chunk.set_crc32(0xdeadbeef);
  chunk.set_num_tensors(9);
  // Unknown fields of every wire type a newer client might add: varint, fixed64, bytes, fixed32.
  const std::string unknown = std::string("\x78\x96\x01", 3) + std::string("\x81\x01", 2) +
                              std::string(8, '\x01') + "\x8a\x01\x03" "abc" "\x95\x01" "wxyz";
  const std::string bytes = unknown + chunk.SerializeAsString();
  for (size_t slice_bytes : {size_t{1}, size_t{3}, size_t{64}, bytes.size()}) {
    DecodedWeightChunk decoded;
    ASSERT_TRUE(decode_weight_chunk(sliced(bytes, slice_bytes), &decoded).ok()) << slice_bytes;
    EXPECT_EQ(joined(decoded.data), chunk.data()) << slice_bytes;
    EXPECT_EQ(decoded.header.name(), chunk.name());
    EXPECT_EQ(decoded.header.version(), 5);
    EXPECT_EQ(decoded.header.offset(), 1200);
    EXPECT_EQ(decoded.header.total_bytes(), 4800);
    EXPECT_EQ(decoded.header.crc32(), 0xdeadbeefu);
    EXPECT_EQ(decoded.header.num_tensors(), 9);
    ASSERT_EQ(decoded.header.shape_size(), 2);
    EXPECT_EQ(decoded.header.shape(1), 300);
  }
}

TEST(WeightChunkWire, BrokenMessagesAreInvalidArgument) {
  forge::v1::WeightChunk chunk;
  chunk.set_name("w");
  chunk.set_data(std::string(100, 'x'));
  chunk.set_crc32(7);
  const std::string bytes = chunk.SerializeAsString();
  const size_t data_at = bytes.find(std::string(100, 'x'));
  ASSERT_NE(data_at, std::string::npos);
  struct Case {
    std::string bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {bytes.substr(0, data_at + 50), "data runs past the message's end"},
      {bytes + "\x40", "field 8 is truncated"},         // a varint tag with no value
      {bytes + "\x45" "ab", "field 8 is truncated"},    // fixed32 with 2 of 4 bytes
      {bytes + "\x53", "wire type 3"},                  // a group
      {bytes + "\x12\x05" "ab", "field 2 is truncated"},  // a name shorter than its length
      {std::string("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12), "truncated"},  // 11-byte varint
  };
  for (const Case& c : cases) {
    DecodedWeightChunk decoded;
    absl::Status status = decode_weight_chunk(sliced(c.bytes, 16), &decoded);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status;
  }
}

}  // namespace
}  // namespace forge::rollout
