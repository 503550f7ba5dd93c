// GPT-2's byte-level alphabet: each of the 256 byte values is written as one printable Unicode
// character ('!'..'~', '¡'..'¬', '®'..'ÿ' as themselves, the rest as U+0100.. in byte order, so a
// space is 'Ġ' and a newline 'Ċ'). Byte-level vocabularies (DeepSeek, Qwen, Llama 3, GPT-2) spell
// their tokens in it; Forge keeps the raw bytes instead and converts once, at load.
// Thread-safety: pure functions over constant tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace forge::policy::hf {

// The character that stands for `byte`.
uint32_t byte_level_char(unsigned char byte);

// The bytes a byte-level token spells, appended to *out; false (and *out unchanged) when `token`
// has a character outside the alphabet.
bool byte_level_to_bytes(std::string_view token, std::string* out);

// The byte-level spelling of raw bytes.
std::string bytes_to_byte_level(std::string_view bytes);

}  // namespace forge::policy::hf
