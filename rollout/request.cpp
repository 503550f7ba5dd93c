#include "rollout/request.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/splitmix64.h"

namespace forge::rollout {
namespace {

absl::Status bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

uint64_t sample_seed(uint64_t seed, int64_t prompt_index, int64_t sample_index) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ static_cast<uint64_t>(prompt_index));
  return splitmix64(h ^ static_cast<uint64_t>(sample_index));
}

absl::Status resolve_and_validate(GenerationRequest& request, const RequestLimits& limits) {
  SamplingOptions& s = request.sampling;
  if (request.prompts.empty()) return bad("prompts", "no prompts");
  if (request.first_prompt_index < 0) {
    return bad("first_prompt_index", absl::StrCat("must be >= 0 (got ", request.first_prompt_index, ")"));
  }
  if (s.n < 1 || s.n > limits.max_n) {
    return bad("sampling.n", absl::StrCat("must be in [1, ", limits.max_n, "] (got ", s.n, ")"));
  }
  if (!(s.temperature >= 0) || !std::isfinite(s.temperature)) {
    return bad("sampling.temperature", absl::StrCat("must be >= 0 (got ", s.temperature, ")"));
  }
  if (!(s.top_p > 0 && s.top_p <= 1)) {
    return bad("sampling.top_p", absl::StrCat("must be in (0, 1] (got ", s.top_p, ")"));
  }
  if (s.top_k < 0) return bad("sampling.top_k", absl::StrCat("must be >= 0 (got ", s.top_k, ")"));
  if (s.max_new_tokens < 0) {
    return bad("sampling.max_new_tokens", absl::StrCat("must be >= 0 (got ", s.max_new_tokens, ")"));
  }
  if (s.max_new_tokens == 0) s.max_new_tokens = limits.default_max_new_tokens;
  for (size_t i = 0; i < s.stop.size(); ++i) {
    if (s.stop[i].empty()) return bad(absl::StrCat("sampling.stop[", i, "]"), "empty stop string");
  }
  for (size_t p = 0; p < request.prompts.size(); ++p) {
    const std::vector<int32_t>& ids = request.prompts[p];
    if (ids.empty()) return bad(absl::StrCat("prompts[", p, "]"), "empty prompt");
    for (size_t j = 0; j < ids.size(); ++j) {
      if (ids[j] < 0 || ids[j] >= limits.vocab_size) {
        return bad(absl::StrCat("prompts[", p, "].token_ids[", j, "]"),
                   absl::StrCat(ids[j], " outside the vocabulary [0, ", limits.vocab_size, ")"));
      }
    }
    const int64_t need = static_cast<int64_t>(ids.size()) + s.max_new_tokens;
    if (need > limits.max_seq_len) {
      return bad("sampling.max_new_tokens",
                 absl::StrCat(s.max_new_tokens, " new tokens after the ", ids.size(),
                              " tokens of prompts[", p, "] exceed the context of ",
                              limits.max_seq_len, " tokens per sequence"));
    }
  }
  return absl::OkStatus();
}

}  // namespace forge::rollout
