// Text of a completion as its tokens arrive, for rollouts that stream or stop on strings.
//
// push(id) returns the text that became final with that token:
// - a token that ends inside a UTF-8 character emits nothing until a later token completes it
//   (bytes that can no longer form a character become U+FFFD, as decode() does);
// - text that could be the start of a stop string is held back until it is known not to be, so
//   a stop string split across tokens ("</an" + "swer>") is found and never emitted: the stream
//   ends just before it and stopped() turns true;
// - finish() releases what is held (an unfinished character as U+FFFD).
// The concatenation of everything emitted equals tokenizer.decode(ids) cut before the first stop
// string. Only the tail that a stop string can span is searched, so each push costs O(token + the
// longest stop string).
// Thread-safety: one sequence's state; use from one thread at a time. The tokenizer is shared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/tokenizer.h"

namespace forge::policy {

class StreamingDetokenizer {
 public:
  // `tokenizer` must outlive this. Empty stop strings are ignored.
  StreamingDetokenizer(const Tokenizer& tokenizer, std::vector<std::string> stop);

  // Appends token `id`; returns the newly final text. After a stop, further pushes return "".
  // Errors: the tokenizer's (a negative id).
  absl::StatusOr<std::string> push(int32_t id);
  // Ends the stream: returns what was still held back.
  std::string finish();

  bool stopped() const { return stopped_; }
  const std::string& stop_string() const { return stop_found_; }  // the one that matched
  // All text emitted so far.
  const std::string& text() const { return emitted_; }

 private:
  // Emits what is final in text_ (all of it when `all`).
  std::string release(bool all);

  const Tokenizer& tokenizer_;
  std::vector<std::string> stop_;
  size_t longest_stop_ = 0;
  std::string pending_;  // bytes not yet a complete character
  std::string text_;     // valid UTF-8 decoded so far (not cut)
  std::string emitted_;  // the prefix of text_ returned so far
  bool stopped_ = false;
  std::string stop_found_;
};

}  // namespace forge::policy
