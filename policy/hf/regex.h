// A compiled Split pattern: PCRE2 in UTF + UCP mode (\p{L}, \s, \w over all of Unicode), JIT-
// compiled. Matches are found the way the Rust tokenizers library's Oniguruma iterator finds them:
// left to right, non-overlapping, and an empty match right where the previous one ended is skipped.
// Thread-safety: immutable after compile(); find_all may run on many threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::policy::hf {

class Regex {
 public:
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // InvalidArgument with PCRE2's message and offset when `pattern` does not compile.
  static absl::StatusOr<std::unique_ptr<Regex>> compile(const std::string& pattern);

  // Appends the [begin, end) byte offsets of every match in `text` (valid UTF-8). Fails only when
  // PCRE2 runs out of its match limits.
  absl::Status find_all(std::string_view text,
                        std::vector<std::pair<size_t, size_t>>* matches) const;

 private:
  explicit Regex(void* code, bool jit) : code_(code), jit_(jit) {}
  void* code_;  // pcre2_code_8*
  bool jit_;
};

}  // namespace forge::policy::hf
