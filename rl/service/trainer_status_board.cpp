#include "rl/service/trainer_status_board.h"

namespace forge::rl {

TrainerStatusBoard::TrainerStatusBoard() : started_(std::chrono::steady_clock::now()) {}

void TrainerStatusBoard::update(const std::function<void(Snapshot&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  change(snapshot_);
}

TrainerStatusBoard::Snapshot TrainerStatusBoard::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

double TrainerStatusBoard::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

}  // namespace forge::rl
