// Finding and reading a Hugging Face tokenizer: `path` is a tokenizer.json or a model folder that
// holds one; tokenizer_config.json is read from the same folder when it is there. Errors name the
// file (and, for bad JSON, the byte offset).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "policy/hf/json_util.h"

namespace forge::policy::hf {

inline constexpr char kTokenizerFile[] = "tokenizer.json";
inline constexpr char kTokenizerConfigFile[] = "tokenizer_config.json";

struct TokenizerFiles {
  std::string tokenizer_path;  // the tokenizer.json read
  std::string config_path;     // the tokenizer_config.json read; "" when there is none
  Json tokenizer;
  Json config;  // null when there is none
};

absl::StatusOr<TokenizerFiles> read_tokenizer_files(const std::string& path);

// Parses `text` as JSON; InvalidArgument "<name>: not valid JSON: ..." otherwise.
absl::StatusOr<Json> parse_json(const std::string& text, const std::string& name);

}  // namespace forge::policy::hf
