// tokenizer.json's "pre_tokenizer": splits normalized text into the pieces the model encodes one
// at a time. Built: Split (a "Regex" pattern through PCRE2, or a "String"; every behavior; invert),
// Digits, ByteLevel (add_prefix_space, use_regex) and Sequence. Any other type is an error naming
// its JSON path.
//
// ByteLevel's byte-to-character mapping is not applied to the text: the BPE model works on raw
// bytes (its vocabulary is converted at load, byte_level.h), which is the same thing. So ByteLevel
// must be the last pre-tokenizer (from_json says whether there is one).
// Thread-safety: immutable after from_json; split may run on many threads at once.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/hf/json_util.h"

namespace forge::policy::hf {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;

  // Appends the non-empty pieces `text` splits into to *out. Pieces are views into `text` or into
  // strings the pre-tokenizer appends to *arena (a deque: earlier views stay valid).
  virtual absl::Status split(std::string_view text, std::vector<std::string_view>* out,
                             std::deque<std::string>* arena) const = 0;

  // The pre-tokenizer `json` (at `path`) describes; nullptr for JSON null. *byte_level is set when
  // it ends with ByteLevel.
  static absl::StatusOr<std::unique_ptr<PreTokenizer>> from_json(const Json& json,
                                                                 const std::string& path,
                                                                 bool* byte_level);
};

}  // namespace forge::policy::hf
