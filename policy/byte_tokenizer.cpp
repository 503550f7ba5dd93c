#include "policy/byte_tokenizer.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"

namespace forge::policy {
namespace {

// Special tokens in id order, starting at ByteTokenizer::kBos.
constexpr std::array<std::string_view, 7> kSpecials = {
    kBosText, kEosText, kPadText, kThinkOpen, kThinkClose, kAnswerOpen, kAnswerClose};

}  // namespace

std::optional<int32_t> ByteTokenizer::special_id(std::string_view text) const {
  for (size_t i = 0; i < kSpecials.size(); ++i) {
    if (kSpecials[i] == text) return kBos + static_cast<int32_t>(i);
  }
  return std::nullopt;
}

std::vector<int32_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool matched = false;
    if (text[i] == '<') {
      for (size_t s = 0; s < kSpecials.size(); ++s) {
        if (text.substr(i, kSpecials[s].size()) == kSpecials[s]) {
          ids.push_back(kBos + static_cast<int32_t>(s));
          i += kSpecials[s].size();
          matched = true;
          break;
        }
      }
    }
    if (!matched) ids.push_back(static_cast<unsigned char>(text[i++]));
  }
  return ids;
}

absl::StatusOr<std::string> ByteTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int32_t id : ids) {
    if (id >= 0 && id < 256) {
      out.push_back(static_cast<char>(id));
    } else if (id == kBos || id == kEos || id == kPad) {
      continue;
    } else if (id > kPad && id < kVocabSize) {
      out.append(kSpecials[id - kBos]);
    } else if (id >= kVocabSize) {
      // A model's vocabulary may be padded past the tokenizer's (an untrained one samples them).
      absl::StrAppend(&out, "<|unused_", id, "|>");
    } else {
      return absl::InvalidArgumentError(absl::StrCat("token id ", id, " is negative"));
    }
  }
  return out;
}

}  // namespace forge::policy
