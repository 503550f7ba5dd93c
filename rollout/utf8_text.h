// Completion text must be valid UTF-8 (proto3 `string` fields are checked on parse), but a policy
// samples raw bytes. valid_utf8 keeps well-formed sequences and replaces each ill-formed one with
// U+FFFD, following the W3C/Unicode "maximal subpart" practice. Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace forge::rollout {

std::string valid_utf8(std::string_view bytes);

}  // namespace forge::rollout
