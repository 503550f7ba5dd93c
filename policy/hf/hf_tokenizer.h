// A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) behind the Tokenizer interface:
// byte-level BPE as DeepSeek-V2/V3/R1, Qwen2/3 and Llama 3 ship it. Ids agree with the Rust
// `tokenizers` library (tests/policy/tokenizer_reference/ holds its ids for a corpus).
//
// encode(text) runs the library's pipeline: added tokens are split off first (unnormalized ones
// in the raw text, normalized ones after normalization), then normalizer, pre-tokenizer and BPE
// model on the text between them. Input that is not UTF-8 is repaired first (U+FFFD).
//
// Control tokens come from tokenizer_config.json (required: it names eos_token): bos_token
// (absent, as in Qwen: bos_id() is the pad token and add_bos() is false), eos_token, pad_token
// (absent: the eos token), add_bos_token (absent: whether the post-processor puts bos first).
// decode() follows the Tokenizer contract (bos/eos/pad dropped, ids without a token rendered
// "<|unused_ID|>"); decode_all() is the library's decode, every token rendered.
// Thread-safety: immutable after load; every method may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/hf/added_tokens.h"
#include "policy/hf/bpe_model.h"
#include "policy/hf/json_util.h"
#include "policy/hf/normalizer.h"
#include "policy/hf/post_processor.h"
#include "policy/hf/pre_tokenizer.h"
#include "policy/tokenizer.h"

namespace forge::policy::hf {

class HfTokenizer final : public Tokenizer {
 public:
  // `path`: a tokenizer.json, or a model folder holding one (and tokenizer_config.json). Errors
  // name the file and the JSON path of what is wrong or unsupported.
  static absl::StatusOr<std::unique_ptr<HfTokenizer>> load(const std::string& path);
  // From parsed files; `config` is tokenizer_config.json's contents (null when there is none).
  static absl::StatusOr<std::unique_ptr<HfTokenizer>> from_json(const Json& tokenizer,
                                                                const Json& config);

  std::vector<int32_t> encode(std::string_view text) const override;
  // The library's encode; with add_special_tokens the post-processor's tokens are added (for
  // DeepSeek's file that adds nothing: transformers adds its bos from add_bos_token). Fails only
  // when a Split regex exhausts PCRE2's limits; encode(text) then hands that chunk to the model
  // whole (the ids still decode to the text).
  absl::StatusOr<std::vector<int32_t>> encode(std::string_view text, bool add_special_tokens) const;

  absl::StatusOr<std::string> decode(const std::vector<int32_t>& ids) const override;
  // The library's decode(ids, skip_special_tokens). An id without a token is an error naming it.
  absl::StatusOr<std::string> decode_all(const std::vector<int32_t>& ids,
                                         bool skip_special_tokens = false) const;
  absl::StatusOr<std::string> token_bytes(int32_t id) const override;

  int32_t vocab_size() const override { return vocab_size_; }
  int32_t bos_id() const override { return bos_id_; }
  int32_t eos_id() const override { return eos_id_; }
  int32_t pad_id() const override { return pad_id_; }
  bool add_bos() const override { return add_bos_; }
  std::optional<int32_t> special_id(std::string_view text) const override;

  // tokenizer_config.json's chat_template (its "default" one when it lists several); "" if none.
  const std::string& chat_template() const { return chat_template_; }

 private:
  HfTokenizer() = default;
  // strict: a failing regex is an error; otherwise its chunk goes to the model whole.
  absl::StatusOr<std::vector<int32_t>> encode_impl(std::string_view text, bool add_special_tokens,
                                                   bool strict) const;
  absl::Status encode_chunk(std::string_view text, std::vector<int32_t>* ids, bool strict) const;
  absl::Status read_config(const Json& config);

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  AddedTokens added_;
  bool has_normalized_added_ = false;
  std::vector<std::string> bytes_;  // by id: what the token decodes to, before UTF-8 repair
  std::vector<uint8_t> kind_;       // by id: 0 no token, 1 model token, 2 added, 3 added special
  int32_t vocab_size_ = 0;
  int32_t bos_id_ = -1, eos_id_ = -1, pad_id_ = -1;
  bool add_bos_ = false;
  std::string chat_template_;
};

}  // namespace forge::policy::hf
