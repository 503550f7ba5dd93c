// The rollout engine's domain types: what a generation request asks for and what a completion
// carries, with no gRPC or protobuf in sight (proto_convert.h maps them to forge.v1 messages).
//
// Seeding: sample `i` of prompt `p` (p = first_prompt_index + index in `prompts`) samples with its
// own generator seeded with sample_seed(seed, p, i), so its tokens depend on the seed, the prompt and
// the weights only, never on the other sequences it is batched with, nor on how a pool of workers
// split the prompts (the pool keeps global prompt indices through first_prompt_index).
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace forge::rollout {

struct SamplingOptions {
  double temperature = 1.0;       // 0: greedy
  double top_p = 1.0;             // (0, 1]
  int top_k = 0;                  // 0: off
  int n = 1;                      // samples per prompt
  int max_new_tokens = 0;         // 0: the worker's default (rollout.max_new_tokens)
  std::vector<std::string> stop;  // stop strings; the text is cut before the first one
  uint64_t seed = 0;
};

// What a request's unfinished sequences do when the worker publishes new weights (partial
// rollouts, for asynchronous RL).
enum class PartialRollout {
  kOff,        // pinned: every token comes from the weights current when the request was accepted
  kRecompute,  // move to the new weights between two decode steps; each running sequence's cache
               // is first rewritten by the new weights (one prefill of prompt + tokens so far)
  kKeep,       // move to the new weights and decode over the cache the old weights wrote
};

struct GenerationRequest {
  std::vector<std::vector<int32_t>> prompts;  // token ids, each non-empty
  SamplingOptions sampling;
  int64_t first_prompt_index = 0;  // prompts[k] is prompt first_prompt_index + k (seeds, results)
  PartialRollout partial = PartialRollout::kOff;
  bool return_routing = false;     // fill Completion.routed_experts
};

struct Completion {
  int32_t prompt_index = 0;   // first_prompt_index + k
  int32_t sample_index = 0;   // 0 .. n-1
  std::vector<int32_t> prompt_token_ids;
  std::vector<int32_t> token_ids;  // generated tokens only (a final eos is kept)
  std::vector<float> logprobs;     // one per token: log softmax(logits / T)[token], T=0 read as 1
  std::string text;                // valid UTF-8 (invalid bytes become U+FFFD), stop string cut off
  std::string finish_reason;       // "stop" (eos or a stop string) | "length"
  int64_t policy_version = 0;      // the weights of its first token (of every token unless partial)
  std::vector<int64_t> token_versions;  // one per token: the version of the weights that sampled it
  // With return_routing: the routed experts of every token the model read, MoE layer by layer:
  // [P + R - 1][routing_layers][routing_top_k] for the P prompt tokens and the first R - 1
  // generated ones (the last token is sampled, never read). Partial rollouts with kRecompute
  // hold the routing of the new weights' prefill for the positions before the switch.
  std::vector<int32_t> routed_experts;
  int32_t routing_layers = 0;
  int32_t routing_top_k = 0;
};

// What a worker accepts; the request's fields are checked against it.
struct RequestLimits {
  int vocab_size = 0;
  int max_seq_len = 0;              // prompt + completion tokens per sequence (a cache slot)
  int max_n = 1024;                 // largest samples-per-prompt
  int default_max_new_tokens = 128; // used when sampling.max_new_tokens is 0
};

// Resolves defaults (max_new_tokens 0 -> the default) and checks every field, naming the first bad
// one: "prompts[2].token_ids[5]: 999 outside the vocabulary [0, 272)", "sampling.top_p: ...".
absl::Status resolve_and_validate(GenerationRequest& request, const RequestLimits& limits);

// The seed of sample `sample_index` of prompt `prompt_index`: a splitmix64 chain over the three
// numbers (documented in rollout.proto's SamplingParams.seed).
uint64_t sample_seed(uint64_t seed, int64_t prompt_index, int64_t sample_index);

}  // namespace forge::rollout
