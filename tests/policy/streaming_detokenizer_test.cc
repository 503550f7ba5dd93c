// The streaming detokenizer: tokens pushed one at a time give exactly decode(ids) (cut before the
// first stop string), nothing is emitted inside a character, and stop strings are found across
// token boundaries and never emitted.
#include "policy/streaming_detokenizer.h"

#include <gtest/gtest.h>

#include "base/utf8.h"
#include "policy/byte_tokenizer.h"
#include "tests/policy/tokenizer_files.h"

namespace forge::policy {
namespace {

using forge::policy::testing::corpus_texts;
using forge::policy::testing::real_tokenizer;

// Streams `ids`; returns the concatenated output, checking each piece is valid UTF-8.
std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids,
                   std::vector<std::string> stop, bool* stopped = nullptr) {
  StreamingDetokenizer detok(tok, std::move(stop));
  std::string out;
  for (int32_t id : ids) {
    absl::StatusOr<std::string> piece = detok.push(id);
    EXPECT_TRUE(piece.ok()) << piece.status();
    EXPECT_TRUE(is_valid_utf8(*piece));
    out += *piece;
    EXPECT_EQ(out, detok.text());
  }
  out += detok.finish();
  if (stopped != nullptr) *stopped = detok.stopped();
  return out;
}

TEST(StreamingDetokenizer, EqualsDecodeOnTheCorpus) {
  for (const char* name : {"deepseek_v3", "qwen3"}) {
    const hf::HfTokenizer* tok = real_tokenizer(name);
    ASSERT_NE(tok, nullptr);
    for (const std::string& text : corpus_texts()) {
      const std::vector<int32_t> ids = tok->encode(text);
      EXPECT_EQ(stream(*tok, ids, {}), *tok->decode(ids)) << name << ": " << text.substr(0, 100);
    }
  }
}

TEST(StreamingDetokenizer, HoldsBytesUntilACharacterCompletes) {
  const hf::HfTokenizer* tok = real_tokenizer("qwen3");
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = tok->encode("ok 👍🏽!");
  StreamingDetokenizer detok(*tok, {});
  std::string bytes, all;
  int inside = 0;  // tokens that end inside a character
  for (int32_t id : ids) {
    bytes += *tok->token_bytes(id);
    const std::string piece = *detok.push(id);
    all += piece;
    EXPECT_EQ(all, bytes.substr(0, stable_utf8_prefix(bytes)));
    if (stable_utf8_prefix(bytes) < bytes.size()) {
      ++inside;
      EXPECT_TRUE(is_valid_utf8(all));
    }
  }
  EXPECT_GE(inside, 1);  // the skin-tone modifier's four bytes span two Qwen3 tokens
  all += detok.finish();
  EXPECT_EQ(all, "ok 👍🏽!");

  // A stream that ends inside a character: finish() gives U+FFFD, as decode() does.
  const std::vector<int32_t> cut(ids.begin(), ids.begin() + 2);
  std::string cut_bytes;
  for (int32_t id : cut) cut_bytes += *tok->token_bytes(id);
  ASSERT_FALSE(is_valid_utf8(cut_bytes));
  EXPECT_EQ(stream(*tok, cut, {}), *tok->decode(cut));
}

TEST(StreamingDetokenizer, StopStringsMatchAcrossTokens) {
  // The byte tokenizer: every character is its own token, so each stop string spans several.
  ByteTokenizer bytes;
  const std::string text = "reasoning... FINAL: 42 STOP and more STOP";
  bool stopped = false;
  EXPECT_EQ(stream(bytes, bytes.encode(text), {"STOP", "zzz"}, &stopped),
            "reasoning... FINAL: 42 ");
  EXPECT_TRUE(stopped);
  // A held-back prefix that turns out not to be a stop string is released.
  EXPECT_EQ(stream(bytes, bytes.encode("a STO b ST"), {"STOP"}, &stopped), "a STO b ST");
  EXPECT_FALSE(stopped);
  // Nothing of the stop string is emitted before it completes.
  StreamingDetokenizer detok(bytes, {"\n\nUser:"});
  std::string out;
  for (int32_t id : bytes.encode("x\n\nUse")) out += *detok.push(id);
  EXPECT_EQ(out, "x");
  for (int32_t id : bytes.encode("r: hi")) out += *detok.push(id);
  EXPECT_EQ(out, "x");
  EXPECT_TRUE(detok.stopped());
  EXPECT_EQ(detok.stop_string(), "\n\nUser:");
  EXPECT_EQ(*detok.push('z'), "");

  // Real tokens: "\boxed{" is split over several Qwen3 tokens.
  const hf::HfTokenizer* tok = real_tokenizer("qwen3");
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = tok->encode("so x = 7, hence \\boxed{7} and more");
  EXPECT_EQ(stream(*tok, ids, {"\\boxed{"}, &stopped), "so x = 7, hence ");
  EXPECT_TRUE(stopped);
  // The earliest of several stop strings wins, wherever the tokens split them.
  EXPECT_EQ(stream(*tok, ids, {"more", "hence"}, &stopped), "so x = 7, ");
  // A stop string inside a multi-byte character sequence: "🏽" after "👍".
  EXPECT_EQ(stream(*tok, tok->encode("a👍🏽b"), {"🏽"}, &stopped), "a👍");
  EXPECT_TRUE(stopped);
}

}  // namespace
}  // namespace forge::policy
