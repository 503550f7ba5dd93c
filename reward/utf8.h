// Protobuf string fields and JSON text must be valid UTF-8, but a policy sampling raw bytes (the
// byte tokenizer) can produce anything. Everything the reward stack sends or writes goes through
// here first.
#pragma once

#include <string>
#include <string_view>

namespace forge::reward {

// `text` with every invalid or truncated UTF-8 sequence replaced by U+FFFD; valid text is returned
// unchanged. Thread-safe (pure).
std::string to_valid_utf8(std::string_view text);

bool is_valid_utf8(std::string_view text);

}  // namespace forge::reward
