#include "reward/reward_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace forge::reward {
namespace {

absl::Status bad(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("reward.", key, ": ", why));
}

}  // namespace

absl::Status RewardConfig::validate() const {
  for (const auto& [name, weight] : weights) {
    if (!std::isfinite(weight)) return bad("weights." + name, "must be a finite number");
  }
  if (!(timeout_s > 0) || !std::isfinite(timeout_s)) return bad("timeout_s", "must be > 0");
  if (!(max_error_fraction >= 0 && max_error_fraction <= 1)) {
    return bad("max_error_fraction", "must be in [0, 1]");
  }
  if (concurrency < 0) return bad("concurrency", "must be >= 0");
  if (queue_limit <= 0) return bad("queue_limit", "must be > 0");
  if (!plugin_options.is_object()) return bad("plugin_options", "must be a map of rule names");
  if (format.pattern.empty()) return bad("format.pattern", "must not be empty");
  for (const std::string& tag : format.unique_tags) {
    if (tag.empty()) return bad("format.unique_tags", "an empty tag cannot be counted");
  }
  if (length.max_len < 0) return bad("length.max_len", "must be >= 0");
  if (length.cache_len < 0) return bad("length.cache_len", "must be >= 0");
  if (length.max_len > 0 && length.cache_len >= length.max_len) {
    return bad("length.cache_len", absl::StrCat("must be < length.max_len (", length.max_len, ")"));
  }
  if (!(length.bytes_per_token > 0)) return bad("length.bytes_per_token", "must be > 0");
  if (!(math.rel_tolerance >= 0)) return bad("math.rel_tolerance", "must be >= 0");
  if (!(math.abs_tolerance >= 0)) return bad("math.abs_tolerance", "must be >= 0");
  if (math.float_rounding < 0 || math.float_rounding > 15) {
    return bad("math.float_rounding", "must be in [0, 15]");
  }
  if (!code.is_object()) return bad("code", "must be a map of keys");
  return absl::OkStatus();
}

}  // namespace forge::reward
