// tokenizer.json's "added_tokens": tokens matched in the text before the model sees it (special
// or not), with the library's options: `normalized` (matched in the normalized text rather than
// the raw one), `single_word` (not inside a word), `lstrip` / `rstrip` (take the whitespace beside
// the match). Matching is leftmost-longest, as the library's Aho-Corasick automaton does it.
//
// Ids are assigned as the library assigns them when it loads a file (the "id" fields are only
// checked to be ids): a token whose content is already in the model's vocabulary takes that id,
// the others take the next free id after the model's vocabulary and the added tokens so far.
// Thread-safety: immutable after construction; split may run on many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/hf/json_util.h"
#include "policy/hf/normalizer.h"

namespace forge::policy::hf {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A run of text (id < 0) or one added token (its id), as a view into the split text.
struct Segment {
  std::string_view text;
  int32_t id;
};

class AddedTokens {
 public:
  // `normalizer` (may be null) rewrites the content of `normalized` tokens: they are matched in
  // normalized text.
  // `model_id`: the model's id of a token as the file spells it (or -1); `model_size`: the number
  // of entries in the model's vocabulary.
  static absl::StatusOr<AddedTokens> from_json(
      const Json& json, const std::string& path, const Normalizer* normalizer,
      const std::function<int32_t(const std::string&)>& model_id, int32_t model_size);

  // Splits `text` on the tokens with normalized == `normalized`; appends the segments in order.
  void split(std::string_view text, bool normalized, std::vector<Segment>* out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  // The token with this id, or nullptr.
  const AddedToken* find(int32_t id) const;
  // The id of the token whose content is `content`, or -1.
  int32_t id_of(std::string_view content) const;

 private:
  // A byte trie over the patterns of one kind (raw or normalized).
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
      int32_t token = -1;                                       // index in tokens_, or -1
    };
    std::vector<Node> nodes{Node{}};
    std::array<bool, 256> first{};  // bytes a pattern can start with
    void add(std::string_view pattern, int32_t token);
    // The longest pattern starting at text[pos]: its token index and length, or -1.
    int32_t longest(std::string_view text, size_t pos, size_t* length) const;
  };

  std::vector<AddedToken> tokens_;
  std::map<int32_t, size_t> by_id_;
  Trie raw_, normalized_;
};

}  // namespace forge::policy::hf
