// Request plumbing that every completion depends on: defaults, per-sample seeds, proto round trips,
// and completion text that is always valid UTF-8.
#include "rollout/request.h"

#include <gtest/gtest.h>

#include <set>

#include "policy/byte_tokenizer.h"
#include "rollout/proto_convert.h"
#include "base/utf8.h"

namespace forge::rollout {
namespace {

TEST(RequestTest, SampleSeedsDifferPerPromptAndSample) {
  std::set<uint64_t> seeds;
  for (int p = 0; p < 20; ++p) {
    for (int i = 0; i < 20; ++i) seeds.insert(sample_seed(7, p, i));
  }
  EXPECT_EQ(seeds.size(), 400u);
  EXPECT_EQ(sample_seed(7, 3, 4), sample_seed(7, 3, 4));
  EXPECT_NE(sample_seed(7, 3, 4), sample_seed(8, 3, 4));
  EXPECT_NE(sample_seed(7, 3, 4), sample_seed(7, 4, 3));
}

TEST(RequestTest, ZeroMaxNewTokensTakesTheWorkersDefault) {
  GenerationRequest r;
  r.prompts = {{1, 2, 3}};
  RequestLimits limits;
  limits.vocab_size = 272;
  limits.max_seq_len = 64;
  limits.default_max_new_tokens = 20;
  ASSERT_TRUE(resolve_and_validate(r, limits).ok());
  EXPECT_EQ(r.sampling.max_new_tokens, 20);
}

TEST(RequestTest, ProtoDefaultsAndRoundTrip) {
  policy::ByteTokenizer tokenizer;
  forge::v1::GenerateRequest proto;
  proto.add_prompts()->set_text("hi</answer>");
  auto unset = request_from_proto(proto, tokenizer);
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(unset->prompts[0], (std::vector<int32_t>{'h', 'i', 262}));
  EXPECT_EQ(unset->sampling.temperature, 1.0);  // unset optional fields
  EXPECT_EQ(unset->sampling.top_p, 1.0);
  EXPECT_EQ(unset->sampling.n, 1);              // n 0 means 1

  GenerationRequest r;
  r.prompts = {{5, 6}, {7}};
  r.sampling.temperature = 0;  // set to 0 (greedy) must survive, unlike "unset"
  r.sampling.top_p = 0.5;
  r.sampling.top_k = 3;
  r.sampling.n = 4;
  r.sampling.max_new_tokens = 9;
  r.sampling.stop = {"\n\n"};
  r.sampling.seed = 123456789012345ULL;
  r.first_prompt_index = 17;
  request_to_proto(r, &proto);
  auto back = request_from_proto(proto, tokenizer);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->prompts, r.prompts);
  EXPECT_EQ(back->sampling.temperature, 0.0);
  EXPECT_EQ(back->sampling.top_p, 0.5);
  EXPECT_EQ(back->sampling.top_k, 3);
  EXPECT_EQ(back->sampling.n, 4);
  EXPECT_EQ(back->sampling.max_new_tokens, 9);
  EXPECT_EQ(back->sampling.stop, r.sampling.stop);
  EXPECT_EQ(back->sampling.seed, r.sampling.seed);
  EXPECT_EQ(back->first_prompt_index, 17);
}

// The byte-level cases are in tests/base/utf8_test.cc.
TEST(RequestTest, CompletionTextIsAlwaysValidUtf8) {
  forge::v1::Completion proto;
  proto.set_text(to_valid_utf8("\x80\x81 ok \xF5"));
  std::string wire;
  ASSERT_TRUE(proto.SerializeToString(&wire));
  forge::v1::Completion parsed;
  EXPECT_TRUE(parsed.ParseFromString(wire));  // proto3 checks strings on parse
}

}  // namespace
}  // namespace forge::rollout
