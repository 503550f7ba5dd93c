// rollout::Pool: the GenerationBackend of several rollout workers over gRPC.
//  * generate() splits a request's prompts into one contiguous shard per usable worker and runs the
//    shards concurrently. Shards keep global prompt numbers (first_prompt_index), so the samples do
//    not depend on the split, the number of workers or retries. A shard that fails with a transient
//    status (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, CANCELLED, INTERNAL,
//    UNKNOWN) is retried on the next usable worker, and the failed worker is skipped for
//    `down_for`; a request error (INVALID_ARGUMENT, ...) fails the whole call at once.
//  * push_weights() streams one payload to every worker concurrently. When some workers took the
//    update and others did not, those are "stale" (excluded from generate()) until a later push
//    reaches them; the call fails only when no worker took the update (nothing is marked then).
//  * An address may stand for several servers (a dns:/// name of a Kubernetes headless Service, an
//    "ipv4:a:p1,b:p2" target): generation goes through gRPC's round-robin balancing with one
//    shard per server, and weight updates go to each server the name resolves to at the time.
// Thread-safety: thread-safe; generate() calls may overlap each other and push_weights() (as
// asynchronous GRPO's generation ahead does), push_weights() calls may not overlap each other.
#pragma once

#include <chrono>
#include <map>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "rollout/client.h"
#include "rollout/generation_backend.h"

namespace forge::rollout {

struct PoolOptions {
  ClientOptions client;
  int max_attempts = 3;                        // tries per shard, each on another worker if any
  std::chrono::milliseconds down_for{5000};    // how long a failed worker is skipped
  int64_t chunk_bytes = kDefaultChunkBytes;    // weight update chunk size
};

struct PoolWorker {
  std::string address;
  bool down = false;     // failed recently
  bool stale = false;    // missed the last weight update
  int64_t version = -1;  // last version pushed to it (-1: none)
};

class Pool : public GenerationBackend {
 public:
  // At least one address.
  static absl::StatusOr<std::unique_ptr<Pool>> create(const std::vector<std::string>& addresses,
                                                      const PoolOptions& options = {});
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  size_t size() const { return clients_.size(); }
  Client& client(size_t i) { return *clients_[i]; }

  // Completions ordered by (prompt_index, sample_index); prompt_index counts from
  // request.first_prompt_index as on a single worker.
  absl::StatusOr<std::vector<Completion>> generate(const GenerationRequest& request) override;

  // Builds the payload (seconds include it) and pushes it to every worker.
  absl::StatusOr<WeightPublishResult> push_weights(const NamedTensors& tensors,
                                                   int64_t version) override;
  absl::StatusOr<WeightPublishResult> push_weights(const WeightPayload& payload);

  std::vector<PoolWorker> workers() const;

 private:
  struct State {
    std::chrono::steady_clock::time_point down_until{};
    bool stale = false;
    int64_t version = -1;
  };
  Pool(const std::vector<std::string>& addresses, const PoolOptions& options);

  // The client that pushes weights to `server`, one of what worker `worker`'s address resolves to.
  Client& push_client(size_t worker, const std::string& server);
  // Usable workers now (not stale, not down); if none, every non-stale one.
  std::vector<size_t> usable() const;
  void mark_down(size_t worker);
  absl::StatusOr<std::vector<Completion>> run_shard(const GenerationRequest& shard,
                                                    size_t first_worker);

  PoolOptions options_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<size_t> backends_;  // servers each address resolved to when the pool was made
  std::map<std::string, std::unique_ptr<Client>> push_clients_;  // per resolved server, under mu_
  mutable std::mutex mu_;
  std::vector<State> state_;
};

}  // namespace forge::rollout
