// The byte-level tokenizer: ids 0..255 are the bytes of the UTF-8 text, then the special tokens
//   256 bos, 257 eos, 258 pad, 259 <think>, 260 </think>, 261 <answer>, 262 </answer>.
// vocab_size() is 263; a model's vocab_size may be larger (configs/models/tiny.json uses 272).
// Thread-safety: immutable, safe to share.
#pragma once

#include "policy/tokenizer.h"

namespace forge::policy {

class ByteTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kBos = 256;
  static constexpr int32_t kEos = 257;
  static constexpr int32_t kPad = 258;
  static constexpr int32_t kThinkOpenId = 259;
  static constexpr int32_t kThinkCloseId = 260;
  static constexpr int32_t kAnswerOpenId = 261;
  static constexpr int32_t kAnswerCloseId = 262;
  static constexpr int32_t kVocabSize = 263;

  std::vector<int32_t> encode(std::string_view text) const override;
  absl::StatusOr<std::string> decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return kVocabSize; }
  int32_t bos_id() const override { return kBos; }
  int32_t eos_id() const override { return kEos; }
  int32_t pad_id() const override { return kPad; }
  std::optional<int32_t> special_id(std::string_view text) const override;
};

}  // namespace forge::policy
