// The engine's per-request and per-sequence state (rollout/engine.h's private types), shared by
// engine.cpp (requests: submit, admission, finishing) and engine_model_calls.cpp (the model calls:
// prefill, decode, partial rollouts). Internal to forge_rollout.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "policy/sampler.h"
#include "policy/streaming_detokenizer.h"
#include "rollout/engine.h"

namespace forge::rollout {

struct Engine::Request {
  GenerationRequest request;
  std::shared_ptr<const WeightSet> weights;  // pinned at submit
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  Callbacks callbacks;
  policy::SamplingParams params;
  int total = 0;        // prompts x n
  int finished = 0;     // engine thread
  bool done = false;    // engine thread (stop() after the thread ended)
  std::atomic<bool> cancelled{false};
};

struct Engine::Queued {
  std::shared_ptr<Request> request;
  int prompt = 0;  // index in request.prompts
  int sample = 0;
};

struct Engine::Sequence {
  Sequence(std::shared_ptr<Request> r, int p, int s, uint64_t seed)
      : request(std::move(r)), prompt(p), sample(s), sampler(request->params, seed) {}
  std::shared_ptr<Request> request;
  int prompt;
  int sample;
  policy::Sampler sampler;
  int slot = -1;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::vector<int64_t> versions;  // per token
  std::vector<int32_t> routing;   // [positions][MoE layers][top_k], when the request asked
  // The text as tokens arrive, when the request has stop strings (found across token boundaries
  // and inside multi-byte characters); without them the tokens are decoded once at the end.
  std::optional<policy::StreamingDetokenizer> detokenizer;
  int64_t next = -1;  // the last sampled token, which the next decode step feeds
  bool finished = false;
};

}  // namespace forge::rollout
