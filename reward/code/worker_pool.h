// A pool of pre-started sandbox workers (reward/code/sandbox_worker.h) with one Boost.Asio io
// thread that owns them: it spawns them, feeds them jobs from a FIFO queue, enforces deadlines,
// and replaces any worker that dies. `reuse_workers = false` instead starts a fresh sandbox for
// every job and kills it afterwards (the slow, obviously isolated baseline of the bench).
//
// Creating a pool makes this process a child subreaper (sandbox_process.h): it reaps its sandboxes'
// orphaned inits itself.
//
// Thread-safe: run() may be called from any number of threads; it blocks until its job is done.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "reward/code/sandbox_config.h"
#include "reward/code/sandbox_worker.h"

namespace forge::reward::code {

// Sandbox workers running a job now, over every WorkerPool of this process (a reward server's
// forge:reward_sandbox_workers_busy).
int busy_sandbox_workers();

class WorkerPool {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    SandboxConfig sandbox;
    int workers = 1;  // pool size, or concurrent fresh sandboxes
    bool reuse_workers = true;
  };
  struct Outcome {
    nlohmann::json result;          // the harness's result object ({"status","passed",...})
    bool deadline_limited = false;  // the caller's deadline, not the sandbox's limits, cut it
  };

  // Validates the options and starts the io thread and (when reusing) the workers.
  static absl::StatusOr<std::unique_ptr<WorkerPool>> create(const Options& options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs one harness job ({"kind","program",...}; the pool adds "limits" and "job_seconds").
  // `runs` is how many program runs it needs (stdio cases), for the time budget. Errors:
  // DeadlineExceeded when `deadline` passes before a worker takes the job; Unavailable when
  // sandboxes cannot start or one dies; Cancelled on shutdown.
  absl::StatusOr<Outcome> run(nlohmann::json job, int runs, Clock::time_point deadline);

  // Host pids of the bwrap processes alive now (for tests that look for leftovers).
  std::vector<pid_t> worker_pids() const;
  // Waits until `n` workers are idle and ready (pre-started), or `timeout` passes.
  bool wait_until_ready(int n, Clock::duration timeout) const;
  // Sandboxes started so far (including replacements).
  int started() const;

 private:
  struct Job;
  explicit WorkerPool(const Options& options);
  void spawn_worker(std::shared_ptr<Job> dedicated);
  void on_ready(SandboxWorker& w);
  void on_exit(SandboxWorker& w, const std::string& why);
  void schedule_respawn();
  void dispatch();
  void start_job(const std::shared_ptr<SandboxWorker>& w, const std::shared_ptr<Job>& job);
  void finish(const std::shared_ptr<Job>& job, absl::StatusOr<Outcome> outcome);
  void fail_queue(const absl::Status& status);
  std::shared_ptr<SandboxWorker> find(const SandboxWorker& w) const;
  void publish_state();

  Options options_;
  std::vector<std::string> argv_;
  nlohmann::json limits_;
  int uid_, gid_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  // io-thread state
  std::vector<std::shared_ptr<SandboxWorker>> workers_;
  std::deque<std::shared_ptr<Job>> queue_;
  int next_id_ = 0;
  int start_failures_ = 0;  // consecutive workers that died before becoming ready
  std::string last_error_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> respawn_timers_;
  // published for other threads
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<pid_t> pids_;
  int idle_count_ = 0;
  int busy_count_ = 0;  // this pool's share of busy_sandbox_workers()
  std::atomic<int> started_{0};
  std::thread thread_;
};

}  // namespace forge::reward::code
