// UTF-8 helpers shared by the tokenizers and the streaming detokenizer. Ill-formed input is
// repaired the way Rust's String::from_utf8_lossy (and so the Hugging Face tokenizers library) does
// it: each maximal subpart of an ill-formed sequence becomes one U+FFFD (Unicode 15, section 3.9,
// Table 3-7). Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace forge {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

enum class Utf8Step { kValid, kInvalid, kTruncated };

// Reads the sequence at text[pos]. kValid: a well-formed character of *length bytes (code point in
// *cp). kInvalid: *length bytes form a maximal ill-formed subpart (one U+FFFD). kTruncated: the
// *length bytes up to the end of `text` are a well-formed prefix that more bytes could complete.
Utf8Step read_utf8(std::string_view text, size_t pos, size_t* length, uint32_t* cp);

bool is_valid_utf8(std::string_view text);

// `text` with each maximal ill-formed subpart replaced by U+FFFD (a truncated tail too).
std::string to_valid_utf8(std::string_view text);

// The length of the longest prefix of `text` that more bytes cannot change: all of it unless it
// ends inside a well-formed but incomplete sequence.
size_t stable_utf8_prefix(std::string_view text);

// Appends code point `cp` encoded as UTF-8.
void append_utf8(uint32_t cp, std::string* out);

}  // namespace forge
