// UTF-8 sanitising. Protobuf string fields and JSON text must be valid UTF-8, but a policy that
// samples raw bytes (the byte tokenizer) can produce anything: every completion the rollout engine
// returns, and everything the reward stack sends or writes, goes through valid_utf8 first.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace forge {

// Whether `text` is well-formed UTF-8 (Unicode Table 3-7: no overlongs, no surrogates, nothing
// above U+10FFFF, no truncated sequence).
bool is_valid_utf8(std::string_view text);

// `text` with each maximal ill-formed subpart replaced by one U+FFFD (Unicode's recommended
// "maximal subpart" practice, also the W3C encoding standard's): a truncated sequence such as
// E2 82 is one replacement, while bytes that can start no sequence (C0, F5..FF, a stray 80, the
// A0 after ED of a surrogate) are one replacement each. Well-formed text is returned unchanged.
std::string valid_utf8(std::string_view text);

}  // namespace forge
