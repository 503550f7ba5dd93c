// The byte tokenizer behind the Tokenizer interface: UTF-8 round trip and the special tokens.
#include "policy/byte_tokenizer.h"

#include <gtest/gtest.h>

namespace forge::policy {
namespace {

TEST(ByteTokenizer, RoundTripsUtf8Bytes) {
  auto tok = Tokenizer::create("byte");
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::string text = "x = 3·4 → 12, π ≈ 3.14\n\t\"ok\"";
  std::vector<int32_t> ids = (*tok)->encode(text);
  EXPECT_EQ(ids.size(), text.size());
  for (int32_t id : ids) EXPECT_LT(id, 256);
  EXPECT_EQ(*(*tok)->decode(ids), text);
}

TEST(ByteTokenizer, SpecialTokens) {
  ByteTokenizer tok;
  EXPECT_EQ(tok.bos_id(), 256);
  EXPECT_EQ(tok.eos_id(), 257);
  EXPECT_EQ(tok.pad_id(), 258);
  EXPECT_EQ(tok.vocab_size(), 263);
  std::vector<int32_t> ids = tok.encode("<think>a<b</think><answer>7</answer>");
  EXPECT_EQ(ids, (std::vector<int32_t>{259, 'a', '<', 'b', 260, 261, '7', 262}));
  EXPECT_EQ(*tok.decode(ids), "<think>a<b</think><answer>7</answer>");
  EXPECT_EQ(*tok.special_id("</answer>"), 262);
  EXPECT_FALSE(tok.special_id("<answer").has_value());
  // bos/eos/pad are control tokens: dropped from text.
  EXPECT_EQ(*tok.decode({256, 'h', 'i', 257, 258}), "hi");
  EXPECT_EQ(tok.encode("<|eos|>"), std::vector<int32_t>{257});
}

TEST(ByteTokenizer, IdsPastTheVocabularyAndBadInput) {
  ByteTokenizer tok;
  EXPECT_EQ(*tok.decode({'a', 270}), "a<|unused_270|>");
  auto bad = tok.decode({-3});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("-3"), std::string::npos);
  auto unknown = Tokenizer::create("sentencepiece");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("sentencepiece"), std::string::npos);
}

}  // namespace
}  // namespace forge::policy
