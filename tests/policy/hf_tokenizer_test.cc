// The Hugging Face tokenizer against the Rust `tokenizers` library: ids and decoded text on the
// committed corpus for DeepSeek-V3's and Qwen3's real tokenizer.json, decode of random ids, the
// variants that exercise options the real files do not use, the control tokens, and errors that
// name the JSON path. Exact equality everywhere (no tolerance: ids are integers).
#include "policy/hf/hf_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>

#include "policy/hf/byte_level.h"
#include "policy/hf/normalizer.h"
#include "policy/hf/tokenizer_json.h"
#include "tests/policy/tokenizer_files.h"

namespace forge::policy::hf {
namespace {

using forge::policy::testing::corpus_texts;
using forge::policy::testing::read_jsonl;
using forge::policy::testing::real_tokenizer;
using forge::policy::testing::reference_dir;
using forge::policy::testing::tokenizer_folder;

std::vector<int32_t> ids_of(const Json& j) { return j.get<std::vector<int32_t>>(); }

std::string nfc(std::string text) {
  auto n = Normalizer::from_json(Json{{"type", "NFC"}}, "normalizer");
  EXPECT_TRUE(n.ok()) << n.status();
  (*n)->normalize(&text);
  return text;
}

class RealTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(RealTokenizer, IdsAndDecodeMatchTheRustLibraryOnTheCorpus) {
  const HfTokenizer* tok = real_tokenizer(GetParam());
  ASSERT_NE(tok, nullptr);
  const std::vector<std::string> texts = corpus_texts();
  const std::vector<Json> reference = read_jsonl(reference_dir() + "/" + GetParam() + ".ids.jsonl");
  ASSERT_EQ(texts.size(), reference.size());
  ASSERT_GE(texts.size(), 200u);
  int mismatches = 0;
  size_t tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> expected = ids_of(reference[i].at("ids"));
    const std::vector<int32_t> ids = tok->encode(texts[i]);
    tokens += ids.size();
    if (ids != expected && ++mismatches <= 3) {
      ADD_FAILURE() << "line " << i + 1 << " differs: " << texts[i].substr(0, 200);
    }
    absl::StatusOr<std::string> decoded = tok->decode_all(expected);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, reference[i].at("decoded").get<std::string>()) << "line " << i + 1;
    // decode(encode(x)) == x for DeepSeek-V3 (no normalizer), == NFC(x) for Qwen3.
    EXPECT_EQ(*decoded, GetParam() == "qwen3" ? nfc(texts[i]) : texts[i]) << "line " << i + 1;
  }
  EXPECT_EQ(mismatches, 0) << "of " << texts.size() << " lines";
  EXPECT_GT(tokens, 12000u);
}

TEST_P(RealTokenizer, DecodesRandomIdsAsTheLibraryDoes) {
  const HfTokenizer* tok = real_tokenizer(GetParam());
  ASSERT_NE(tok, nullptr);
  int cases = 0;
  for (const Json& c : read_jsonl(reference_dir() + "/decode_cases.jsonl")) {
    if (c.at("tokenizer") != GetParam()) continue;
    ++cases;
    absl::StatusOr<std::string> text =
        tok->decode_all(ids_of(c.at("ids")), c.at("skip_special").get<bool>());
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, c.at("text").get<std::string>()) << c.at("ids").dump();
  }
  EXPECT_EQ(cases, 80);
}

INSTANTIATE_TEST_SUITE_P(HfTokenizer, RealTokenizer, ::testing::Values("deepseek_v3", "qwen3"));

// Applies a JSON merge patch (RFC 7386) to *target, recording how to undo it: the real files are
// large, and patching one copy in place is much faster than copying it for every variant.
using Undo = std::vector<std::pair<Json::json_pointer, std::optional<Json>>>;
void patch_in_place(Json* target, const Json& patch, const Json::json_pointer& at, Undo* undo) {
  for (const auto& [key, value] : patch.items()) {
    Json& here = (*target)[at];
    if (value.is_object() && here.contains(key) && here[key].is_object()) {
      patch_in_place(target, value, at / key, undo);
      continue;
    }
    undo->emplace_back(at / key,
                       here.contains(key) ? std::optional<Json>(here[key]) : std::nullopt);
    if (value.is_null()) {
      here.erase(key);
    } else {
      here[key] = Json();
      here[key].merge_patch(value);
    }
  }
}

void undo_patch(Json* target, const Undo& undo) {
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    Json& parent = (*target)[it->first.parent_pointer()];
    const std::string key = it->first.back();
    if (it->second.has_value()) {
      parent[key] = *it->second;
    } else {
      parent.erase(key);
    }
  }
}

// Options the real files do not use: each variant is a JSON merge patch over a real file (or a
// small whole file), with the library's ids for a feature corpus.
TEST(HfTokenizer, VariantsMatchTheRustLibrary) {
  std::ifstream in(reference_dir() + "/variants.json");
  const Json variants = Json::parse(in);
  ASSERT_GE(variants.size(), 20u);
  std::map<std::string, TokenizerFiles> bases;
  for (const Json& v : variants) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    Undo undo;
    Json small;
    Json* file = &small;
    Json config = Json{{"eos_token", "h"}};
    if (v.contains("file")) {
      small = v.at("file");
    } else {
      const std::string base = v.at("base");
      if (!bases.count(base)) {
        ASSERT_NE(real_tokenizer(base), nullptr);
        auto files = read_tokenizer_files(tokenizer_folder(base));
        ASSERT_TRUE(files.ok()) << files.status();
        bases[base] = std::move(files).value();
      }
      file = &bases[base].tokenizer;
      patch_in_place(file, v.at("patch"), Json::json_pointer(), &undo);
      config = bases[base].config;
    }
    auto tok = HfTokenizer::from_json(*file, config);
    undo_patch(file, undo);
    ASSERT_TRUE(tok.ok()) << tok.status();
    const Json& texts = v.at("texts");
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string text = texts[i];
      EXPECT_EQ((*tok)->encode(text), ids_of(v.at("ids")[i])) << text;
      auto with_specials = (*tok)->encode(text, /*add_special_tokens=*/true);
      ASSERT_TRUE(with_specials.ok());
      EXPECT_EQ(*with_specials, ids_of(v.at("ids_special")[i])) << text;
      if (v.contains("decoded")) {
        EXPECT_EQ(*(*tok)->decode_all(ids_of(v.at("ids")[i])), v.at("decoded")[i]) << text;
      }
    }
  }
}

// DeepSeek-V3 writes merges as "a b" strings, Qwen3 as ["a", "b"] pairs: the same merges in the
// other format give the same ids.
TEST(HfTokenizer, MergesAsPairsEqualMergesAsStrings) {
  ASSERT_NE(real_tokenizer("deepseek_v3"), nullptr);
  auto files = read_tokenizer_files(tokenizer_folder("deepseek_v3"));
  ASSERT_TRUE(files.ok()) << files.status();
  Json& merges = files->tokenizer["model"]["merges"];
  ASSERT_TRUE(merges[0].is_string());
  for (Json& m : merges) {
    const std::string s = m;
    m = Json::array({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  auto pairs = HfTokenizer::from_json(files->tokenizer, files->config);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  const std::vector<std::string> texts = corpus_texts();
  for (size_t i = 0; i < texts.size(); i += 5) {
    EXPECT_EQ((*pairs)->encode(texts[i]), real_tokenizer("deepseek_v3")->encode(texts[i]));
  }
}

TEST(HfTokenizer, ControlTokensComeFromTokenizerConfig) {
  const HfTokenizer* ds = real_tokenizer("deepseek_v3");
  const HfTokenizer* qwen = real_tokenizer("qwen3");
  ASSERT_NE(ds, nullptr);
  ASSERT_NE(qwen, nullptr);
  // DeepSeek-V3: <｜begin▁of▁sentence｜> 0, <｜end▁of▁sentence｜> 1 (also pad), add_bos_token.
  EXPECT_EQ(ds->bos_id(), 0);
  EXPECT_EQ(ds->eos_id(), 1);
  EXPECT_EQ(ds->pad_id(), 1);
  EXPECT_TRUE(ds->add_bos());
  EXPECT_EQ(ds->vocab_size(), 128815);
  EXPECT_FALSE(ds->special_id("<think>").has_value());  // V3 has none; R1 adds it
  EXPECT_EQ(ds->special_id("<｜Assistant｜>"), 128804);
  EXPECT_EQ(ds->encode_prompt("Hi"), (std::vector<int32_t>{0, 23166}));
  EXPECT_NE(ds->chat_template().find("<｜Assistant｜>"), std::string::npos);
  // Qwen3: no bos (bos_id() is the pad token, never added), eos <|im_end|>, pad <|endoftext|>.
  EXPECT_EQ(qwen->eos_id(), 151645);
  EXPECT_EQ(qwen->pad_id(), 151643);
  EXPECT_EQ(qwen->bos_id(), 151643);
  EXPECT_FALSE(qwen->add_bos());
  EXPECT_EQ(qwen->vocab_size(), 151669);
  EXPECT_EQ(qwen->special_id("<think>"), 151667);
  EXPECT_EQ(qwen->special_id("</think>"), 151668);
  EXPECT_EQ(qwen->encode_prompt("Hi"), qwen->encode("Hi"));
  EXPECT_NE(qwen->chat_template().find("<|im_start|>"), std::string::npos);
}

TEST(HfTokenizer, DecodeFollowsTheTokenizerContract) {
  const HfTokenizer* qwen = real_tokenizer("qwen3");
  ASSERT_NE(qwen, nullptr);
  const std::vector<int32_t> hi = qwen->encode("Hi");
  std::vector<int32_t> ids = {151643};
  ids.insert(ids.end(), hi.begin(), hi.end());
  ids.push_back(151667);  // <think>: rendered
  ids.push_back(151645);  // eos: dropped
  ids.push_back(151900);  // past the tokenizer, inside a model's padded vocabulary
  EXPECT_EQ(*qwen->decode(ids), "Hi<think><|unused_151900|>");
  EXPECT_EQ(*qwen->decode_all({151643, hi[0], 151645}), "<|endoftext|>Hi<|im_end|>");
  EXPECT_FALSE(qwen->decode({-1}).ok());
  EXPECT_FALSE(qwen->decode_all({151900}).ok());
  // A token that ends inside a character: its bytes, made valid only by what follows.
  const std::vector<int32_t> emoji = qwen->encode("👍🏽");
  ASSERT_GT(emoji.size(), 1u);
  std::string bytes;
  for (int32_t id : emoji) bytes += *qwen->token_bytes(id);
  EXPECT_EQ(bytes, "👍🏽");
}

TEST(HfTokenizer, InvalidUtf8IsRepairedBeforeEncoding) {
  const HfTokenizer* ds = real_tokenizer("deepseek_v3");
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(ds->encode("ab\xFF\xE2\x82 c\xF0\x9F"), ds->encode("ab\uFFFD\uFFFD c\uFFFD"));
}

TEST(HfTokenizer, CreateTakesAFileOrAFolder) {
  ASSERT_NE(real_tokenizer("qwen3"), nullptr);
  for (const std::string& path :
       {tokenizer_folder("qwen3"), tokenizer_folder("qwen3") + "/tokenizer.json"}) {
    auto tok = Tokenizer::create("hf", path);
    ASSERT_TRUE(tok.ok()) << tok.status();
    EXPECT_EQ((*tok)->vocab_size(), 151669);
    EXPECT_EQ((*tok)->encode("Hello world"), (std::vector<int32_t>{9707, 1879}));
  }
  auto missing = Tokenizer::create("hf", "/nonexistent/folder");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/folder"), std::string::npos);
}

// --- errors name the JSON path ------------------------------------------------------------------

// A small valid byte-level tokenizer: every byte, one merge.
Json small_tokenizer() {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b)
    vocab[bytes_to_byte_level(std::string(1, static_cast<char>(b)))] = b;
  vocab["ab"] = 256;
  return Json{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", Json::array({Json{{"id", 257}, {"content", "<eos>"}, {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       Json{{"type", "Sequence"},
            {"pretokenizers", Json::array({Json{{"type", "Split"},
                                                {"pattern", Json{{"Regex", "\\p{L}+|\\s+"}}},
                                                {"behavior", "Isolated"},
                                                {"invert", false}},
                                           Json{{"type", "ByteLevel"},
                                                {"add_prefix_space", false},
                                                {"use_regex", false}}})}}},
      {"post_processor", nullptr},
      {"decoder", Json{{"type", "ByteLevel"}}},
      {"model", Json{{"type", "BPE"}, {"vocab", vocab}, {"merges", Json::array({"a b"})}}}};
}

const Json kConfig = Json{{"eos_token", "<eos>"}};

std::string error_of(const Json& file, const Json& config = kConfig) {
  auto tok = HfTokenizer::from_json(file, config);
  return tok.ok() ? "(loaded)" : std::string(tok.status().message());
}

TEST(HfTokenizerErrors, TheSmallTokenizerLoads) {
  auto tok = HfTokenizer::from_json(small_tokenizer(), kConfig);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->encode("ab cab<eos>"), (std::vector<int32_t>{256, ' ', 'c', 256, 257}));
  EXPECT_EQ((*tok)->eos_id(), 257);
}

TEST(HfTokenizerErrors, UnsupportedComponentsNameTheirPathAndType) {
  Json t = small_tokenizer();
  t["normalizer"] =
      Json{{"type", "Sequence"},
           {"normalizers", Json::array({Json{{"type", "NFC"}}, Json{{"type", "Precompiled"}}})}};
  EXPECT_EQ(error_of(t), "normalizer.normalizers[1]: unsupported normalizer type 'Precompiled'");

  t = small_tokenizer();
  t["pre_tokenizer"]["pretokenizers"][0] = Json{{"type", "Metaspace"}};
  EXPECT_EQ(error_of(t),
            "pre_tokenizer.pretokenizers[0]: unsupported pre-tokenizer type 'Metaspace'");

  t = small_tokenizer();
  t["model"]["type"] = "WordPiece";
  EXPECT_EQ(error_of(t), "model: unsupported model type 'WordPiece'");

  t = small_tokenizer();
  t["decoder"] = Json{{"type", "Metaspace"}};
  EXPECT_EQ(error_of(t), "decoder: unsupported decoder type 'Metaspace'");

  t = small_tokenizer();
  t["post_processor"] = Json{{"type", "Unknown"}};
  EXPECT_EQ(error_of(t), "post_processor: unsupported post-processor type 'Unknown'");

  t = small_tokenizer();
  t["model"]["dropout"] = 0.1;
  EXPECT_NE(error_of(t).find("model.dropout: unsupported value 0.1"), std::string::npos);

  t = small_tokenizer();
  t["model"]["continuing_subword_prefix"] = "##";
  EXPECT_NE(error_of(t).find("model.continuing_subword_prefix"), std::string::npos);

  t = small_tokenizer();
  t["truncation"] = Json{{"max_length", 8}};
  EXPECT_NE(error_of(t).find("truncation: not supported"), std::string::npos);

  // ByteLevel maps bytes to characters: nothing may split after it.
  t = small_tokenizer();
  std::swap(t["pre_tokenizer"]["pretokenizers"][0], t["pre_tokenizer"]["pretokenizers"][1]);
  EXPECT_NE(
      error_of(t).find("pre_tokenizer.pretokenizers[1]: follows ByteLevel, which must be last"),
      std::string::npos);
}

TEST(HfTokenizerErrors, MalformedValuesNameTheirPath) {
  Json t = small_tokenizer();
  t["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(\\p{L}";
  EXPECT_NE(
      error_of(t).find("pre_tokenizer.pretokenizers[0].pattern.Regex: regex does not compile"),
      std::string::npos);

  t = small_tokenizer();
  t["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways";
  EXPECT_EQ(error_of(t), "pre_tokenizer.pretokenizers[0].behavior: unknown behavior 'Sideways'");

  t = small_tokenizer();
  t["model"]["merges"].push_back("a zz");
  EXPECT_EQ(error_of(t), "model.merges[1]: 'zz' is not in the vocabulary");

  t = small_tokenizer();
  t["model"]["merges"].push_back(Json::array({"a"}));
  EXPECT_EQ(error_of(t), "model.merges[1]: expected \"left right\" or [\"left\", \"right\"]");

  t = small_tokenizer();
  t["model"]["vocab"]["x"] = "seven";
  EXPECT_EQ(error_of(t), "model.vocab.x: expected a non-negative integer id");

  t = small_tokenizer();
  t["added_tokens"][0]["lstrip"] = "yes";
  EXPECT_EQ(error_of(t), "added_tokens[0].lstrip: expected true or false");

  t = small_tokenizer();
  t.erase("model");
  EXPECT_EQ(error_of(t), "model: missing");

  EXPECT_NE(error_of(small_tokenizer(), Json()).find("tokenizer_config.json: not found"),
            std::string::npos);
  EXPECT_EQ(error_of(small_tokenizer(), Json{{"eos_token", "<nope>"}}),
            "tokenizer_config.json: eos_token: '<nope>' is not a token of tokenizer.json");
}

TEST(HfTokenizerErrors, FilesNameThemselves) {
  const std::string dir = ::testing::TempDir() + "/hf_tokenizer_errors";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/tokenizer.json") << "{\"model\": [1, 2"; }
  auto tok = HfTokenizer::load(dir);
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find(dir + "/tokenizer.json: not valid JSON"), std::string::npos)
      << tok.status();
  {
    Json t = small_tokenizer();
    t["normalizer"] = Json{{"type", "Lowercase"}};
    std::ofstream(dir + "/tokenizer.json") << t.dump();
    std::ofstream(dir + "/tokenizer_config.json") << kConfig.dump();
  }
  tok = HfTokenizer::load(dir);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().message(),
            dir + "/tokenizer.json: normalizer: unsupported normalizer type 'Lowercase'");
  {
    std::ofstream(dir + "/tokenizer.json") << small_tokenizer().dump();
    std::ofstream(dir + "/tokenizer_config.json") << "{\"eos_token\": 3}";
  }
  tok = HfTokenizer::load(dir);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().message(), dir +
                                        "/tokenizer_config.json: eos_token: expected a string "
                                        "or {\"content\": string}");
}

}  // namespace
}  // namespace forge::policy::hf
