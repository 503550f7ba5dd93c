#include "policy/streaming_detokenizer.h"

#include <algorithm>

#include "base/utf8.h"

namespace forge::policy {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer,
                                           std::vector<std::string> stop)
    : tokenizer_(tokenizer) {
  for (std::string& s : stop) {
    if (s.empty()) continue;
    longest_stop_ = std::max(longest_stop_, s.size());
    stop_.push_back(std::move(s));
  }
}

absl::StatusOr<std::string> StreamingDetokenizer::push(int32_t id) {
  if (stopped_) return std::string();
  absl::StatusOr<std::string> bytes = tokenizer_.token_bytes(id);
  if (!bytes.ok()) return bytes.status();
  pending_ += *bytes;
  const size_t stable = stable_utf8_prefix(pending_);
  if (stable == 0) return std::string();
  const size_t before = text_.size();
  text_ += to_valid_utf8(std::string_view(pending_).substr(0, stable));
  pending_.erase(0, stable);

  // A stop string that ends in the new text starts at most longest_stop_ - 1 bytes before it.
  const size_t from = before >= longest_stop_ ? before - (longest_stop_ - 1) : 0;
  size_t cut = std::string::npos;
  for (const std::string& s : stop_) {
    const size_t at = text_.find(s, std::max(from, emitted_.size()));
    if (at != std::string::npos && at < cut) {
      cut = at;
      stop_found_ = s;
    }
  }
  if (cut != std::string::npos) {
    text_.resize(cut);
    stopped_ = true;
    pending_.clear();
    return release(/*all=*/true);
  }
  return release(/*all=*/false);
}

std::string StreamingDetokenizer::finish() {
  if (!stopped_ && !pending_.empty()) {
    text_ += to_valid_utf8(pending_);
    pending_.clear();
  }
  return release(/*all=*/true);
}

std::string StreamingDetokenizer::release(bool all) {
  size_t end = text_.size();
  if (!all) {
    // Hold back the longest tail of text_ that is a proper prefix of a stop string.
    for (const std::string& s : stop_) {
      const size_t max = std::min(s.size() - 1, text_.size() - emitted_.size());
      for (size_t n = max; n > 0; --n) {
        if (text_.compare(text_.size() - n, n, s, 0, n) == 0) {
          end = std::min(end, text_.size() - n);
          break;
        }
      }
    }
  }
  std::string out = text_.substr(emitted_.size(), end - emitted_.size());
  emitted_ += out;
  return out;
}

}  // namespace forge::policy
