// The generation engine: one thread steps a continuously batched set of sequences over the policy's
// KV cache (MLA latents or GQA keys/values, by the model's family). Between two steps, finished sequences leave (their cache slots are freed) and
// queued ones join (prefill, then they decode with the rest), so requests of different lengths and
// arrival times share every decode step. Requests are queued FIFO by sequence; a request's n
// samples of a prompt that join in the same step share one prefill (its cache rows are copied).
//
// Sampling: every sequence has its own policy::Sampler seeded with sample_seed(seed, prompt, sample)
// (request.h), and the logprob of each token is policy::token_log_probs of the temperature-scaled
// logits (sampler.h). So a request's tokens do not depend on what else is batched with it, up to
// float rounding: a batch of another shape may sum in another order (|delta logits| ~1e-6), which can
// flip a sampled token only when its uniform draw falls within ~1e-6 of a CDF boundary (or a greedy
// near-tie), and logprobs agree to ~1e-5.
//
// Weights: a request is pinned at submit() to the current WeightSet (weight_store.h) and every one of
// its tokens comes from those weights; completions carry that version. Weight updates publish a new
// set without stopping the engine. A request that asks for partial rollouts (request.h) moves to
// each newly published set between two decode steps instead (follow_new_weights); every
// completion carries each token's version, and on request the experts every MoE layer routed each
// token to.
//
// Callbacks run on the engine thread and must be quick (queue the result and return).
// Torch errors inside a step fail the requests of that step with INTERNAL; the engine keeps serving.
// Thread-safety: submit(), generate(), stats(), weights() and RequestHandle::cancel() are
// thread-safe; the destructor stops the thread and fails requests still running with UNAVAILABLE.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/kv_cache.h"
#include "policy/tokenizer.h"
#include "rollout/engine_metrics.h"
#include "rollout/engine_stats.h"
#include "rollout/request.h"
#include "rollout/weight_store.h"
#include "telemetry/registry.h"

namespace forge::rollout {

struct EngineOptions {
  int max_batch_size = 64;             // sequences decoded together (also caps the cache slots)
  int64_t cache_bytes = int64_t{256} << 20;  // KV cache budget
  int max_seq_len = 0;                 // prompt + completion tokens per sequence; 0 = the model's
  int max_queued = 4096;               // sequences waiting for a slot; beyond: RESOURCE_EXHAUSTED
  int max_n = 1024;                    // largest samples-per-prompt a request may ask for
  int default_max_new_tokens = 128;    // for requests with max_new_tokens 0
  int64_t max_prefill_tokens = 8192;   // padded tokens per prefill call (joiners are split)
};


// Cancels a submitted request: its queued sequences are dropped and its running ones leave the
// batch (slots freed) before the next step; on_done then gets CANCELLED. Safe from any thread, any
// number of times, also after the request finished or the engine is gone (then it does nothing).
class RequestHandle {
 public:
  virtual ~RequestHandle() = default;
  virtual void cancel() = 0;
};

class Engine {
 public:
  struct Callbacks {
    std::function<void(Completion&&)> on_completion;   // each finished sample, in finishing order
    std::function<void(const absl::Status&)> on_done;  // once, last: OK after every completion;
                                                       // CANCELLED, UNAVAILABLE or INTERNAL
  };

  // Builds the cache (the error names the budget or length that does not fit) and starts the thread.
  static absl::StatusOr<std::unique_ptr<Engine>> create(
      policy::Model model, std::shared_ptr<const policy::Tokenizer> tokenizer,
      const EngineOptions& options, int64_t initial_version = 0);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Checks the request (INVALID_ARGUMENT naming the field), then queues its prompts x n sequences
  // (RESOURCE_EXHAUSTED when the queue would pass max_queued; UNAVAILABLE when stopping).
  absl::StatusOr<std::shared_ptr<RequestHandle>> submit(GenerationRequest request,
                                                        Callbacks callbacks);
  // submit() and wait: completions ordered by (prompt_index, sample_index).
  absl::StatusOr<std::vector<Completion>> generate(GenerationRequest request);

  WeightStore& weights() { return *weights_; }
  EngineStats stats() const;
  RequestLimits limits() const { return limits_; }
  const policy::ModelConfig& config() const { return config_; }
  const policy::Tokenizer& tokenizer() const { return *tokenizer_; }
  // The engine's Prometheus series (engine_metrics.h), for a worker's /metrics.
  const telemetry::Registry& metrics() const { return registry_; }

  // Stops the thread; requests still queued or running get UNAVAILABLE. Idempotent.
  void stop();

 private:
  struct Request;
  struct Sequence;
  struct Queued;
  class Handle;

  Engine(policy::Model model, std::shared_ptr<const policy::Tokenizer> tokenizer,
         const EngineOptions& options, int64_t initial_version, policy::KvCache cache);

  // A row to prefill into an empty slot; `routing` (optional) receives its tokens' routing.
  struct PrefillRow {
    const std::vector<int32_t>* tokens;
    int slot;
    std::vector<int32_t>* routing;
  };

  void run();
  void cancel_requests();
  void admit(std::vector<Queued>& joining);
  void prefill(std::vector<Queued>& joining);
  // Prefills `rows` on `model`, longest first, in calls of at most max_prefill_tokens padded
  // tokens; returns the logits [V] that follow each row.
  std::vector<at::Tensor> prefill_rows(policy::ModelImpl& model,
                                       const std::vector<PrefillRow>& rows);
  void decode();
  // Partial rollouts: moves the requests that asked for them to the current weights, rewriting
  // their running sequences' caches when they asked for kRecompute.
  void follow_new_weights();
  // Appends a sampled token; finishes the sequence (callbacks, slot freed) when it stops.
  void append(Sequence& seq, int64_t token, float logprob);
  void finish_sequence(Sequence& seq, const std::string& reason);
  void fail_request(const std::shared_ptr<Request>& request, const absl::Status& status);
  void remove_finished();
  // Copies the unfinished sequences and queue into stats_ (called per step and before on_done).
  void publish_stats();

  const policy::ModelConfig config_;
  const std::shared_ptr<const policy::Tokenizer> tokenizer_;
  const EngineOptions options_;
  RequestLimits limits_;
  std::unique_ptr<WeightStore> weights_;
  std::string device_;

  // Engine thread only.
  policy::KvCache cache_;
  std::vector<std::unique_ptr<Sequence>> active_;

  // Shared, under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  std::vector<std::shared_ptr<Request>> live_;
  bool stopping_ = false;
  EngineStats stats_;

  telemetry::Registry registry_;
  EngineMetrics metrics_{registry_};

  std::atomic<int64_t> tokens_generated_{0};
  std::atomic<int64_t> requests_completed_{0};
  std::thread thread_;
};

}  // namespace forge::rollout
