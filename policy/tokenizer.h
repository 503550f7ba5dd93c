// Text <-> token ids. The Tokenizer interface is what the rest of Forge uses; ByteTokenizer
// (byte_tokenizer.h) is the built-in one for synthetic tasks, hf::HfTokenizer (hf/hf_tokenizer.h)
// reads a Hugging Face tokenizer.json (Tokenizer::create picks by kind).
//
// Special tokens: every tokenizer has bos, eos and pad (the byte tokenizer also has the R1 tags
// <think> </think> <answer> </answer>; a real vocabulary has what its file lists). encode() turns
// the literal text of a special token into its id; decode() renders the other special tokens as
// their text and drops bos/eos/pad. A prompt starts with bos_id() when add_bos() (encode_prompt).
// Thread-safety: implementations are immutable after construction and safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::policy {

// The special tokens' texts.
inline constexpr std::string_view kBosText = "<|bos|>";
inline constexpr std::string_view kEosText = "<|eos|>";
inline constexpr std::string_view kPadText = "<|pad|>";
inline constexpr std::string_view kThinkOpen = "<think>";
inline constexpr std::string_view kThinkClose = "</think>";
inline constexpr std::string_view kAnswerOpen = "<answer>";
inline constexpr std::string_view kAnswerClose = "</answer>";

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Ids of `text` (no bos added).
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Text of `ids`. Ids past the tokenizer's vocabulary (a model's padded vocabulary) render as
  // "<|unused_ID|>"; a negative id is an error naming it.
  virtual absl::StatusOr<std::string> decode(const std::vector<int32_t>& ids) const = 0;

  virtual int32_t vocab_size() const = 0;  // ids are in [0, vocab_size)
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  virtual int32_t pad_id() const = 0;
  // The id of a special token by its text (e.g. "</answer>"), or nullopt.
  virtual std::optional<int32_t> special_id(std::string_view text) const = 0;

  // Whether a prompt starts with bos_id() (Qwen's tokenizers have no bos).
  virtual bool add_bos() const { return true; }
  // The ids of a prompt: bos_id() when add_bos(), then encode(text).
  std::vector<int32_t> encode_prompt(std::string_view text) const;

  // The bytes token `id` adds to decode()'s output: a token may end inside a character. decode(ids)
  // is their concatenation (HfTokenizer then repairs invalid UTF-8 with U+FFFD; ByteTokenizer
  // returns the raw bytes). The streaming detokenizer (streaming_detokenizer.h) reads tokens
  // through it and always emits valid UTF-8.
  virtual absl::StatusOr<std::string> token_bytes(int32_t id) const { return decode({id}); }

  // kind "byte" (path unused) or "hf" (path: a tokenizer.json or a model folder holding one, with
  // its tokenizer_config.json). Unknown kinds are an error naming the kind.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> create(const std::string& kind,
                                                           const std::string& path = "");
};

}  // namespace forge::policy
