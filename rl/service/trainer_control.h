// Requests from TrainerService's control RPCs (SaveCheckpoint, Stop, PauseRollouts,
// ResumeRollouts) to the training loop, which serves them between steps (grpo_trainer.h). Plain
// C++: the loop knows nothing of gRPC. Thread-safe: the RPC threads call the request side, the
// loop's thread the serving side.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/status/statusor.h"

namespace forge::rl {

class TrainerControl {
 public:
  // --- requests (any thread) ---
  void request_stop();
  bool stop_requested() const;
  void set_paused(bool paused);
  bool paused() const;
  // Asks for a checkpoint and blocks until the loop wrote one that covers the request (the step
  // it holds), the loop's save failed (its error), `timeout` passed (DeadlineExceeded), or the
  // run ended first (Unavailable).
  absl::StatusOr<int64_t> save_checkpoint(std::chrono::milliseconds timeout);

  // --- serving (the loop's thread) ---
  // True once for every batch of save requests made since the last call.
  bool take_save_request();
  // Answers the requests taken by the last take_save_request().
  void saved(const absl::StatusOr<int64_t>& result);
  // Blocks until a request arrives (save, stop, resume) or `timeout` passes.
  void wait_for_request(std::chrono::milliseconds timeout);
  // The loop has ended: pending and later save requests get Unavailable.
  void close();

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stop_ = false;
  bool paused_ = false;
  bool closed_ = false;
  uint64_t requested_ = 0;  // save requests made
  uint64_t taken_ = 0;      // the loop has taken requests up to this one
  uint64_t answered_ = 0;   // and answered those up to this one
  absl::StatusOr<int64_t> last_result_ = absl::UnavailableError("no checkpoint written yet");
};

}  // namespace forge::rl
