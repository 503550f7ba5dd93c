// The trainer's live state, written by the training loop, read by TrainerService
// (trainer_service.h) and by whoever else watches the run. Plain C++: the trainer updates it
// without knowing about gRPC. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace forge::rl {

class TrainerStatusBoard {
 public:
  struct Snapshot {
    std::string state = "starting";  // starting | training | saving | stopping | finished | failed
    int64_t step = 0;
    int64_t total_steps = 0;
    int64_t policy_version = 0;
    std::string run_dir;
  };

  TrainerStatusBoard();
  void update(const std::function<void(Snapshot&)>& change);
  Snapshot snapshot() const;
  double elapsed_seconds() const;

 private:
  mutable std::mutex mu_;
  Snapshot snapshot_;
  const std::chrono::steady_clock::time_point started_;
};

// A server the run talks to, as TrainerService.ListWorkers reports it.
struct WorkerAddress {
  std::string address;
  std::string role;  // "rollout" | "reward"
};

}  // namespace forge::rl
