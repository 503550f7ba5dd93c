#include "policy/tokenizer.h"

#include "absl/strings/str_cat.h"
#include "policy/byte_tokenizer.h"
#include "policy/hf/hf_tokenizer.h"

namespace forge::policy {

std::vector<int32_t> Tokenizer::encode_prompt(std::string_view text) const {
  std::vector<int32_t> ids;
  if (add_bos()) ids.push_back(bos_id());
  std::vector<int32_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::create(const std::string& kind,
                                                             const std::string& path) {
  if (kind == "byte") return std::unique_ptr<Tokenizer>(std::make_unique<ByteTokenizer>());
  if (kind == "hf") {
    absl::StatusOr<std::unique_ptr<hf::HfTokenizer>> tokenizer = hf::HfTokenizer::load(path);
    if (!tokenizer.ok()) return tokenizer.status();
    return std::unique_ptr<Tokenizer>(std::move(tokenizer).value());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("tokenizer kind '", kind, "' is not supported (supported: byte, hf)"));
}

}  // namespace forge::policy
