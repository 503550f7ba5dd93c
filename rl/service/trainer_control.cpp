#include "rl/service/trainer_control.h"

namespace forge::rl {

void TrainerControl::request_stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
  changed_.notify_all();
}

bool TrainerControl::stop_requested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

void TrainerControl::set_paused(bool paused) {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = paused;
  changed_.notify_all();
}

bool TrainerControl::paused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return paused_;
}

absl::StatusOr<int64_t> TrainerControl::save_checkpoint(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return absl::UnavailableError("the run has ended");
  const uint64_t mine = ++requested_;
  changed_.notify_all();
  const bool answered =
      changed_.wait_for(lock, timeout, [&] { return answered_ >= mine || closed_; });
  if (answered_ >= mine) return last_result_;
  if (closed_) return absl::UnavailableError("the run ended before the checkpoint was written");
  if (!answered) {
    return absl::DeadlineExceededError("no checkpoint yet: the current step has not finished");
  }
  return absl::UnavailableError("the run has ended");
}

bool TrainerControl::take_save_request() {
  std::lock_guard<std::mutex> lock(mu_);
  if (requested_ == taken_) return false;
  taken_ = requested_;
  return true;
}

void TrainerControl::saved(const absl::StatusOr<int64_t>& result) {
  std::lock_guard<std::mutex> lock(mu_);
  last_result_ = result;
  answered_ = taken_;
  changed_.notify_all();
}

void TrainerControl::wait_for_request(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, timeout,
                    [&] { return stop_ || !paused_ || requested_ != taken_ || closed_; });
}

void TrainerControl::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  changed_.notify_all();
}

}  // namespace forge::rl
