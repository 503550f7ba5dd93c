#include "reward/grading_pool.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"

namespace forge::reward {

using Clock = std::chrono::steady_clock;

struct GradingPool::State {
  struct Slot {
    bool busy = false;
    bool stuck = false;
    Clock::time_point overdue_at;
  };

  std::mutex mu;
  std::condition_variable work_cv;     // tasks queued, or stopping
  std::condition_variable monitor_cv;  // stopping
  std::condition_variable exit_cv;     // a thread exited
  std::deque<Task> queue;
  std::map<int, Slot> slots;  // one per live thread, stuck ones included
  int next_slot = 0;
  int stuck = 0;
  int queue_limit = 1;
  bool stopping = false;
};

namespace {

using State = GradingPool::State;

void worker_loop(std::shared_ptr<State> state, int id) {
  std::unique_lock<std::mutex> lock(state->mu);
  while (true) {
    state->work_cv.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
    if (state->stopping) break;
    GradingPool::Task task = std::move(state->queue.front());
    state->queue.pop_front();
    State::Slot& slot = state->slots[id];
    slot.busy = true;
    slot.overdue_at = Clock::now() +
                      std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(task.max_seconds)) +
                      GradingPool::kStuckGrace;
    lock.unlock();
    task.fn(true);
    task.fn = nullptr;  // release what the task holds before taking the lock
    lock.lock();
    State::Slot& after = state->slots[id];
    after.busy = false;
    if (after.stuck) {  // a replacement took this thread's place
      --state->stuck;
      break;
    }
  }
  state->slots.erase(id);
  state->exit_cv.notify_all();
}

// Starts one grading thread; the caller holds state->mu.
void spawn_worker(const std::shared_ptr<State>& state) {
  const int id = state->next_slot++;
  state->slots[id] = State::Slot{};
  std::thread(worker_loop, state, id).detach();
}

// Writes off threads past their task's limit; returns how many. The caller holds state->mu.
int write_off_overdue(State& state) {
  const Clock::time_point now = Clock::now();
  int n = 0;
  for (auto& [id, slot] : state.slots) {
    if (slot.busy && !slot.stuck && now > slot.overdue_at) {
      slot.stuck = true;
      ++state.stuck;
      ++n;
    }
  }
  return n;
}

}  // namespace

GradingPool::GradingPool(int threads, int queue_limit)
    : threads_(threads < 1 ? 1 : threads), state_(std::make_shared<State>()) {
  state_->queue_limit = queue_limit < 1 ? 1 : queue_limit;
  std::lock_guard<std::mutex> lock(state_->mu);
  for (int i = 0; i < threads_; ++i) spawn_worker(state_);
  // The monitor: replaces stuck threads. It holds the state, not the pool.
  std::thread([state = state_] {
    std::unique_lock<std::mutex> lock(state->mu);
    while (!state->stopping) {
      state->monitor_cv.wait_for(lock, std::chrono::milliseconds(100));
      if (state->stopping) break;
      for (int n = write_off_overdue(*state); n > 0; --n) spawn_worker(state);
    }
    state->exit_cv.notify_all();
  }).detach();
}

GradingPool::~GradingPool() {
  std::deque<Task> cancelled;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
    cancelled.swap(state_->queue);
  }
  state_->work_cv.notify_all();
  state_->monitor_cv.notify_all();
  for (Task& task : cancelled) task.fn(false);
  // Wait for threads that are running a task within its limit; leave stuck ones behind.
  std::unique_lock<std::mutex> lock(state_->mu);
  while (true) {
    write_off_overdue(*state_);
    bool waiting = false;
    for (const auto& [id, slot] : state_->slots) waiting |= !slot.stuck;
    if (!waiting) break;
    state_->exit_cv.wait_for(lock, std::chrono::milliseconds(100));
  }
}

absl::Status GradingPool::submit(std::vector<Task> tasks) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) return absl::UnavailableError("the grading pool is shutting down");
    const size_t waiting = state_->queue.size();
    if (waiting + tasks.size() > static_cast<size_t>(state_->queue_limit)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "queue full: ", waiting, " items waiting + ", tasks.size(),
          " in this batch > reward.queue_limit ", state_->queue_limit,
          tasks.size() > static_cast<size_t>(state_->queue_limit) ? " (split the batch)"
                                                                  : " (retry later)"));
    }
    for (Task& task : tasks) state_->queue.push_back(std::move(task));
  }
  state_->work_cv.notify_all();
  return absl::OkStatus();
}

int GradingPool::queued() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return static_cast<int>(state_->queue.size());
}

int GradingPool::stuck() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->stuck;
}

}  // namespace forge::reward
