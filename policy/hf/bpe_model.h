// tokenizer.json's "model" of type BPE: the vocabulary, the ranked merges (either file format,
// "a b" strings or ["a", "b"] pairs), ignore_merges, byte_fallback ("<0xXX>" tokens), unk_token
// and fuse_unk. dropout (other than 0), continuing_subword_prefix and end_of_word_suffix are errors
// naming their JSON path.
//
// A piece becomes symbols (its bytes for a byte-level vocabulary, else its characters), then the
// lowest-ranked adjacent pair is merged, leftmost first, until no pair has a merge: the library's
// algorithm, so ids agree with it.
// Thread-safety: immutable after from_json; tokenize may run on many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "policy/hf/json_util.h"

namespace forge::policy::hf {

class BpeModel {
 public:
  // `byte_level`: pieces arrive as raw bytes and the vocabulary is spelled in byte_level.h's
  // alphabet (the pre-tokenizer ends with ByteLevel).
  static absl::StatusOr<std::unique_ptr<BpeModel>> from_json(const Json& json,
                                                             const std::string& path,
                                                             bool byte_level);

  // Appends the ids of one pre-tokenized piece.
  void tokenize(std::string_view piece, std::vector<int32_t>* ids) const;

  // The token as the file spells it, or nullptr for an id the vocabulary does not have.
  const std::string* token(int32_t id) const {
    return id >= 0 && id < static_cast<int32_t>(tokens_.size()) && has_[id] ? &tokens_[id]
                                                                            : nullptr;
  }
  // The id of a token as the file spells it, or -1.
  int32_t id_of(std::string_view token) const;
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }  // largest id + 1
  int32_t entries() const { return static_cast<int32_t>(spelled_.size()); }

 private:
  struct Merge {
    int32_t rank;
    int32_t id;  // the merged token
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  // Symbols for a character (`bytes`, UTF-8) that has no token: byte_fallback ("<0xXX>" per byte),
  // else unk_token, else nothing. A byte-level vocabulary passes the byte's alphabet character.
  void add_unknown(std::string_view bytes, std::vector<int32_t>* symbols, bool* last_unk) const;
  void merge(std::vector<int32_t>* symbols) const;

  bool byte_level_ = false;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;
  std::vector<std::string> tokens_;  // by id, as spelled in the file
  std::vector<bool> has_;
  absl::flat_hash_map<std::string, int32_t> spelled_;  // file spelling -> id
  absl::flat_hash_map<std::string, int32_t> symbols_;  // the model's own symbols -> id (raw bytes
                                                       // for a byte-level vocabulary)
  absl::flat_hash_map<uint64_t, Merge> merges_;
  std::array<int32_t, 256> byte_ids_{};      // byte-level: the token of each single byte
  std::array<int32_t, 256> fallback_ids_{};  // "<0xXX>" tokens
};

}  // namespace forge::policy::hf
