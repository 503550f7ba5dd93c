// tokenizer.json's "post_processor": the special tokens an encoding gets when asked for them
// (encode(text, add_special_tokens = true)). Built: ByteLevel (ids unchanged), TemplateProcessing
// (its "single" template), RobertaProcessing and BertProcessing (cls A sep), Sequence. Any other
// type is an error naming its JSON path.
// Thread-safety: immutable after from_json.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/hf/json_util.h"

namespace forge::policy::hf {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens of a single sequence around *ids.
  virtual void add_special_tokens(std::vector<int32_t>* ids) const = 0;

  // The post-processor `json` (at `path`) describes; nullptr for JSON null.
  static absl::StatusOr<std::unique_ptr<PostProcessor>> from_json(const Json& json,
                                                                  const std::string& path);
};

}  // namespace forge::policy::hf
