// tokenizer.json's "normalizer": Unicode normalization forms (NFC, NFD, NFKC, NFKD, through
// utf8proc) and Sequence. Any other type is an error naming its JSON path.
// Thread-safety: immutable after from_json; normalize may run on many threads at once.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "policy/hf/json_util.h"

namespace forge::policy::hf {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites *text (valid UTF-8) in place.
  virtual void normalize(std::string* text) const = 0;

  // The normalizer `json` (at `path`) describes; nullptr for JSON null.
  static absl::StatusOr<std::unique_ptr<Normalizer>> from_json(const Json& json,
                                                               const std::string& path);
};

}  // namespace forge::policy::hf
