// Weight updates as a worker receives them: a payload (weight_payload.h) cut into chunks must
// reassemble into exactly the sender's tensors, and every way a stream can be malformed, damaged or
// partial must be refused with a status naming the tensor, leaving the served weights untouched.
#include "rollout/weight_receiver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include <ATen/core/grad_mode.h>

#include "forge/v1/tensor.pb.h"
#include "rollout/weight_chunk_wire.h"
#include "rollout/weight_payload.h"
#include "test_util.h"

namespace forge::rollout {
namespace {

using testing::kSeedA;
using testing::kSeedB;

// `piece_bytes` > 0 hands the data over in pieces of that size, as gRPC's receive slices do.
WeightChunkView view_of(const forge::v1::WeightChunk& c, size_t piece_bytes = 0) {
  const std::string_view data = c.data();
  std::vector<std::string_view> pieces;
  if (piece_bytes == 0) pieces = {data};
  for (size_t at = 0; piece_bytes > 0 && at < data.size(); at += piece_bytes) {
    pieces.push_back(data.substr(at, piece_bytes));
  }
  return weight_chunk_view(c, std::move(pieces));
}

std::vector<forge::v1::WeightChunk> chunks_of(const WeightPayload& payload) {
  std::vector<forge::v1::WeightChunk> out(payload.num_chunks());
  for (size_t i = 0; i < out.size(); ++i) payload.fill(i, &out[i]);
  return out;
}

TEST(ChunkCrc32, IsTheZlibCrc32AndExtends) {
  EXPECT_EQ(chunk_crc32("123456789"), 0xCBF43926u);  // CRC-32's published check value
  EXPECT_EQ(chunk_crc32(""), 0u);
  EXPECT_EQ(chunk_crc32("56789", chunk_crc32("1234")), 0xCBF43926u);
}

class WeightReceiverTest : public ::testing::Test {
 protected:
  WeightReceiverTest() : store_(testing::test_model(kSeedA), 0), source_(testing::test_model(kSeedB)) {}

  // Feeds `chunks` and finishes; the first error, or OK.
  absl::Status feed(const std::vector<forge::v1::WeightChunk>& chunks, size_t piece_bytes = 0) {
    auto spare = store_.acquire_spare();
    EXPECT_TRUE(spare.ok());
    spare_ = *spare;
    WeightReceiver receiver(spare_);
    for (const auto& c : chunks) {
      absl::Status s = receiver.add(view_of(c, piece_bytes));
      if (!s.ok()) {
        store_.release_spare(spare_);
        return s;
      }
    }
    absl::Status s = receiver.finish();
    if (s.ok()) store_.publish(spare_, receiver.version());
    else store_.release_spare(spare_);
    return s;
  }

  WeightPayload payload(int64_t chunk_bytes = 5000, at::ScalarType dtype = at::kFloat) {
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (auto& [name, t] : source_->named_tensors()) tensors.emplace_back(name, t.to(dtype));
    auto p = WeightPayload::build(tensors, 7, chunk_bytes);
    EXPECT_TRUE(p.ok()) << p.status();
    return *p;
  }

  void expect_current_is(const policy::Model& expected, int64_t version) {
    auto current = store_.current();
    EXPECT_EQ(current->version, version);
    const auto got = current->model->named_tensors();
    const auto want = expected->named_tensors();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(at::equal(got[i].second, want[i].second)) << got[i].first;
    }
  }

  void expect_refused(const std::vector<forge::v1::WeightChunk>& chunks, absl::StatusCode code,
                      const std::string& message) {
    absl::Status s = feed(chunks);
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_NE(s.message().find(message), std::string::npos) << s;
    expect_current_is(original_, 0);
  }

  WeightStore store_;
  policy::Model source_;
  policy::Model original_ = testing::test_model(kSeedA);
  std::shared_ptr<WeightSet> spare_;
};

TEST_F(WeightReceiverTest, ChunksReassembleIntoTheSendersTensors) {
  WeightPayload p = payload();
  EXPECT_GT(p.num_chunks(), static_cast<size_t>(p.num_tensors()));  // big tensors span chunks
  ASSERT_TRUE(feed(chunks_of(p)).ok());
  expect_current_is(source_, 7);
}

TEST_F(WeightReceiverTest, DataInManyPiecesReassemblesAndIsChecked) {
  // Small pieces, and pieces larger than the receiver's 64 KiB copy block.
  for (auto [chunk_bytes, piece_bytes] : {std::pair<int64_t, size_t>{5000, 7}, {1 << 20, 100000}}) {
    ASSERT_TRUE(feed(chunks_of(payload(chunk_bytes)), piece_bytes).ok()) << chunk_bytes;
    expect_current_is(source_, 7);
  }
  std::vector<forge::v1::WeightChunk> chunks = chunks_of(payload(1 << 20));
  forge::v1::WeightChunk& big = *std::max_element(
      chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return a.data().size() < b.data().size(); });
  ASSERT_GT(big.data().size(), size_t{200000});
  (*big.mutable_data())[150000] ^= 1;  // in the second piece, second block
  EXPECT_EQ(feed(chunks, 100000).code(), absl::StatusCode::kDataLoss);
}

TEST_F(WeightReceiverTest, ChunksOfDifferentTensorsMayInterleave) {
  std::vector<forge::v1::WeightChunk> chunks = chunks_of(payload());
  std::stable_partition(chunks.begin(), chunks.end(), [](const forge::v1::WeightChunk& c) {
    return c.offset() == 0;  // every tensor's first chunk, then every continuation, in order
  });
  ASSERT_TRUE(feed(chunks).ok());
  expect_current_is(source_, 7);
}

TEST_F(WeightReceiverTest, Bfloat16IsConvertedToTheModelsDtype) {
  ASSERT_TRUE(feed(chunks_of(payload(1 << 20, at::kBFloat16))).ok());
  auto current = store_.current();
  const auto got = current->model->named_tensors();
  const auto want = source_->named_tensors();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].second.scalar_type(), at::kFloat);
    EXPECT_TRUE(at::equal(got[i].second, want[i].second.to(at::kBFloat16).to(at::kFloat))) << got[i].first;
  }
}

TEST_F(WeightReceiverTest, ACorruptedChunkIsDataLossNamingTheTensor) {
  std::vector<forge::v1::WeightChunk> chunks = chunks_of(payload());
  forge::v1::WeightChunk& victim = chunks[chunks.size() / 2];
  std::string data = victim.data();
  data[data.size() / 3] ^= 0x20;
  victim.set_data(data);
  expect_refused(chunks, absl::StatusCode::kDataLoss,
                 "tensor '" + victim.name() + "': chunk at byte offset " +
                     std::to_string(victim.offset()) + " fails its crc32 check");
}

TEST_F(WeightReceiverTest, AMissingOrReorderedChunkIsDataLoss) {
  std::vector<forge::v1::WeightChunk> chunks = chunks_of(payload());
  size_t second = 1;
  while (chunks[second].offset() == 0) ++second;  // a tensor's second chunk
  const std::string name = chunks[second].name();
  auto dropped = chunks;
  dropped.erase(dropped.begin() + second);
  expect_refused(dropped, absl::StatusCode::kDataLoss,
                 "tensor '" + name + "': chunk at byte offset");
  auto swapped = chunks;
  std::swap(swapped[second], swapped[second + 1]);
  expect_refused(swapped, absl::StatusCode::kDataLoss, "(a chunk is missing or out of order)");
}

TEST_F(WeightReceiverTest, APartialStreamIsDataLossNamingWhatIsMissing) {
  std::vector<forge::v1::WeightChunk> chunks = chunks_of(payload());
  const std::string last_name = chunks.back().name();
  chunks.pop_back();
  expect_refused(chunks, absl::StatusCode::kDataLoss, "weight update incomplete");
  expect_refused(chunks, absl::StatusCode::kDataLoss, "tensor '" + last_name + "'");
  expect_refused({}, absl::StatusCode::kInvalidArgument, "carried no chunks");
}

TEST_F(WeightReceiverTest, MalformedChunksAreInvalidArgumentNamingTheTensor) {
  const std::vector<forge::v1::WeightChunk> good = chunks_of(payload());
  auto edited = [&](const std::function<void(std::vector<forge::v1::WeightChunk>&)>& edit) {
    auto c = good;
    edit(c);
    return c;
  };
  const std::string first = good[0].name();
  expect_refused(edited([](auto& c) { c[3].set_name("model.layers.9.nope.weight"); }),
                 absl::StatusCode::kInvalidArgument, "'model.layers.9.nope.weight': not a tensor");
  expect_refused(edited([](auto& c) { c[0].set_shape(0, c[0].shape(0) + 1); }),
                 absl::StatusCode::kInvalidArgument, "tensor '" + first + "': shape [");
  expect_refused(edited([](auto& c) { c[2].set_version(8); }), absl::StatusCode::kInvalidArgument,
                 "version 8 differs from the stream's version 7");
  expect_refused(edited([](auto& c) {
                   for (auto& x : c) x.set_num_tensors(3);
                 }),
                 absl::StatusCode::kInvalidArgument, "num_tensors is 3 but the model has");
  expect_refused(edited([](auto& c) { c[0].set_dtype(forge::v1::INT32); }),
                 absl::StatusCode::kInvalidArgument, "tensor '" + first + "': unsupported dtype");
  expect_refused(edited([](auto& c) { c[0].set_total_bytes(c[0].total_bytes() * 2); }),
                 absl::StatusCode::kInvalidArgument, "tensor '" + first + "': total_bytes");
  expect_refused(edited([](auto& c) { c.push_back(c[0]); }), absl::StatusCode::kInvalidArgument,
                 "tensor '" + first + "': sent twice");
}

TEST_F(WeightReceiverTest, OnlyOneUpdateAtATime) {
  auto first = store_.acquire_spare();
  ASSERT_TRUE(first.ok());
  auto second = store_.acquire_spare();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAborted);
  store_.release_spare(*first);
  EXPECT_TRUE(store_.acquire_spare().ok());
}

}  // namespace
}  // namespace forge::rollout
