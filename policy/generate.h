// Reference generation loop over a batch of prompts: prefill into a KvCache, then batched
// absorbed-MLA decode steps, sequences leaving as they finish (or, with use_cache false, recompute
// the whole prefix every step). `forge generate`, the benches and the tests use it; the rollout
// engine does the same with continuous batching.
// Thread-safety: not thread-safe (drives one model).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/model.h"
#include "policy/sampler.h"

namespace forge::policy {

struct GenerateOptions {
  int max_new_tokens = 64;
  SamplingParams sampling;
  uint64_t seed = 0;                // prompt i samples with seed + i
  std::vector<int32_t> stop_ids;    // a sampled stop id ends its sequence (and is kept)
  bool use_cache = true;
  int64_t cache_budget_bytes = 0;   // 0: just enough slots for the batch
};

struct Generation {
  std::vector<int32_t> tokens;      // the completion (prompt excluded)
  std::vector<float> logprobs;      // one per token, as sampler.h defines them
  std::string finish_reason;        // "stop" | "length"
};

// Prompts need >= 1 token; prompt + max_new_tokens must fit max_position_embeddings.
absl::StatusOr<std::vector<Generation>> generate(ModelImpl& model,
                                                 const std::vector<std::vector<int32_t>>& prompts,
                                                 const GenerateOptions& options);

}  // namespace forge::policy
