// A run's Hugging Face tokenizer: `tokenizer.kind: hf` checked against the model's vocab_size, and
// the real models' chat templates (DeepSeek-R1's, Qwen3's) rendered and tokenized with the real
// tokenizers and picked from a model folder's tokenizer_config.json.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "rl/config/run_config.h"
#include "rl/data/chat_template.h"
#include "rl/policy_loader.h"
#include "tests/policy/tokenizer_files.h"

namespace forge::rl {
namespace {

using forge::policy::testing::real_tokenizer;
using forge::policy::testing::tokenizer_folder;

TEST(HfTokenizerSection, VocabSizeIsCheckedAgainstTheModel) {
  ASSERT_NE(real_tokenizer("deepseek_v3"), nullptr);
  TokenizerSection section;
  section.kind = "hf";
  section.path = tokenizer_folder("deepseek_v3");
  policy::ModelConfig config;
  config.vocab_size = 129280;  // DeepSeek-V3's config.json: padded past the tokenizer's 128815
  auto tok = load_tokenizer(section, config);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 128815);

  config.vocab_size = 100000;
  auto small = load_tokenizer(section, config);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("128815"), std::string::npos) << small.status();
  EXPECT_NE(small.status().message().find("100000"), std::string::npos) << small.status();

  section.path = "/nonexistent/model";
  auto missing = load_tokenizer(section, config);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("tokenizer.path: "), std::string::npos)
      << missing.status();
}

TEST(HfChatTemplate, DeepSeekR1EndsInsideThinking) {
  auto chat = ChatTemplate::create("deepseek-r1");
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->render("7+8"), "<｜User｜>7+8<｜Assistant｜><think>\n");
  EXPECT_EQ(chat->response("x</think>\\boxed{15}"), "<think>\nx</think>\\boxed{15}");
  EXPECT_EQ(*chat->target("<think>\nx</think>15"), "x</think>15");
  EXPECT_FALSE(chat->target("x</think>15").ok());

  // With the tokenizer: bos first (add_bos_token), the role markers as single tokens.
  const policy::Tokenizer* tok = real_tokenizer("deepseek_v3");
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = tok->encode_prompt(chat->render("7+8"));
  ASSERT_GE(ids.size(), 5u);
  EXPECT_EQ(ids[0], 0);                                             // <｜begin▁of▁sentence｜>
  EXPECT_EQ(ids[1], 128803);                                        // <｜User｜>
  EXPECT_NE(std::find(ids.begin(), ids.end(), 128804), ids.end());  // <｜Assistant｜>
  EXPECT_EQ(*tok->decode(ids), chat->render("7+8"));                // decode() drops the bos
}

TEST(HfChatTemplate, Qwen3IsChatMlWithThinking) {
  auto chat = ChatTemplate::create("qwen3");
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->render("7+8"),
            "<|im_start|>user\n7+8<|im_end|>\n<|im_start|>assistant\n<think>\n");
  EXPECT_EQ(chat->response_prefix(), "<think>\n");

  const policy::hf::HfTokenizer* tok = real_tokenizer("qwen3");
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = tok->encode_prompt(chat->render("7+8"));
  ASSERT_GE(ids.size(), 6u);
  EXPECT_EQ(ids[0], 151644);               // <|im_start|>: no bos for Qwen
  EXPECT_EQ(ids[ids.size() - 2], 151667);  // <think>, then "\n"
  // decode_all renders every token; decode() would drop <|im_end|>, Qwen3's eos.
  EXPECT_EQ(*tok->decode_all(ids), chat->render("7+8"));
}

TEST(HfChatTemplate, PickedFromTokenizerConfig) {
  ASSERT_NE(real_tokenizer("deepseek_v3"), nullptr);
  ASSERT_NE(real_tokenizer("qwen3"), nullptr);
  auto ds = ChatTemplate::from_tokenizer_config(tokenizer_folder("deepseek_v3"));
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->name(), "deepseek-r1");
  auto qwen = ChatTemplate::from_tokenizer_config(tokenizer_folder("qwen3") + "/tokenizer.json");
  ASSERT_TRUE(qwen.ok()) << qwen.status();
  EXPECT_EQ(qwen->name(), "qwen3");

  const std::string dir = ::testing::TempDir() + "/hf_chat_template";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer_config.json") << R"({"chat_template": "{{ messages }}"})";
  auto unknown = ChatTemplate::from_tokenizer_config(dir);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find(dir + "/tokenizer_config.json"), std::string::npos);
  std::ofstream(dir + "/tokenizer_config.json") << R"({"eos_token": "x"})";
  auto none = ChatTemplate::from_tokenizer_config(dir);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no chat_template"), std::string::npos);
}

}  // namespace
}  // namespace forge::rl
