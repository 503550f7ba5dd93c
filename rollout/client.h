// The trainer's side of RolloutService. Client talks to one worker; Pool (pool.h) spreads work
// over several. Errors keep the worker's status code and are prefixed with its address
// ("rollout worker 127.0.0.1:5001: sampling.top_p: must be in (0, 1] (got 2)").
// Thread-safety: a Client is thread-safe (gRPC channels and stubs are); calls may run concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rollout/engine_stats.h"
#include "rollout/request.h"
#include "rollout/weight_payload.h"

namespace forge::rollout {

struct ClientOptions {
  std::chrono::milliseconds timeout{0};  // deadline of each Generate / GenerateStream call; 0: none
  std::chrono::milliseconds push_timeout{0};  // deadline of each UpdateWeights call; 0: none
};


struct WeightPushResult {
  int64_t version = 0;
  int64_t previous_version = 0;
  int tensors = 0;
  int64_t bytes = 0;
  double seconds = 0;  // whole call, first chunk to answer
};

class Client {
 public:
  explicit Client(const std::string& address, const ClientOptions& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& address() const { return address_; }

  // Completions ordered by (prompt_index, sample_index).
  absl::StatusOr<std::vector<Completion>> generate(const GenerationRequest& request) const;
  // Calls `on_completion` (on this thread) for each completion as soon as the worker finishes it.
  absl::Status generate_stream(const GenerationRequest& request,
                               const std::function<void(Completion&&)>& on_completion) const;
  // Streams the payload's chunks; the worker answers once the new version is current.
  absl::StatusOr<WeightPushResult> push_weights(const WeightPayload& payload) const;
  absl::StatusOr<WorkerInfo> info(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct Stub;
  std::string address_;
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace forge::rollout
