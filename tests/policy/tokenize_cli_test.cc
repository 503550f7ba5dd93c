// `forge tokenize` as a user runs it: text lines to ids and back with DeepSeek-V3's real tokenizer,
// a malformed line answered by an error line while the lines around it go through, and a bad
// tokenizer path as a usage error.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/common/forge_command.h"
#include "tests/policy/tokenizer_files.h"

namespace forge::policy {
namespace {

using forge::policy::testing::read_jsonl;
using forge::policy::testing::real_tokenizer;
using forge::policy::testing::tokenizer_folder;
using forge::test_support::run_forge;
using nlohmann::json;

TEST(TokenizeCommand, EncodesDecodesAndAnswersABadLineWithAnErrorLine) {
  const hf::HfTokenizer* tok = real_tokenizer("deepseek_v3");
  ASSERT_NE(tok, nullptr);
  const std::string dir = ::testing::TempDir() + "/tokenize_cli";
  std::filesystem::create_directories(dir);
  const std::vector<std::string> texts = {"Hello world", "数学 \\boxed{42} 👍🏽",
                                          "<｜User｜>hi<｜Assistant｜>"};
  {
    std::ofstream in(dir + "/in.jsonl");
    in << json{{"id", "a"}, {"text", texts[0]}}.dump() << "\n";
    in << "{\"text\": \"unterminated\n";  // malformed
    in << json{{"text", texts[1]}}.dump() << "\n";
    in << json{{"ids", json::array({1, 2})}}.dump() << "\n";  // no text
    in << json{{"text", texts[2]}}.dump() << "\n";
  }
  auto r = run_forge("tokenize --tokenizer " + tokenizer_folder("deepseek_v3") + " --input " + dir +
                     "/in.jsonl --output " + dir + "/ids.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("5 lines, 2 errors"), std::string::npos) << r.output;
  const std::vector<json> out = read_jsonl(dir + "/ids.jsonl");
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].at("id"), "a");
  EXPECT_EQ(out[0].at("ids").get<std::vector<int32_t>>(), tok->encode(texts[0]));
  EXPECT_NE(out[1].at("error").at("message").get<std::string>().find("line 2: not valid JSON"),
            std::string::npos)
      << out[1];
  EXPECT_EQ(out[2].at("ids").get<std::vector<int32_t>>(), tok->encode(texts[1]));
  EXPECT_NE(out[3].at("error").at("message").get<std::string>().find("\"text\""),
            std::string::npos);
  EXPECT_EQ(out[4].at("ids").get<std::vector<int32_t>>(), tok->encode(texts[2]));

  // Back to text with --decode: the error lines stay errors (no "ids"), the rest round-trip.
  r = run_forge("tokenize --decode --tokenizer " + tokenizer_folder("deepseek_v3") +
                "/tokenizer.json --input " + dir + "/ids.jsonl --output " + dir + "/text.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<json> back = read_jsonl(dir + "/text.jsonl");
  ASSERT_EQ(back.size(), 5u);
  EXPECT_EQ(back[0].at("text"), texts[0]);
  EXPECT_TRUE(back[1].contains("error"));
  EXPECT_EQ(back[2].at("text"), texts[1]);
  EXPECT_TRUE(back[3].contains("error"));
  EXPECT_EQ(back[4].at("text"), texts[2]);
}

TEST(TokenizeCommand, AMissingTokenizerIsAUsageError) {
  auto r = run_forge("tokenize --tokenizer /nonexistent/model --input - --output - < /dev/null");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/model"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace forge::policy
