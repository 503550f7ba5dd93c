#include "reward/code/worker_pool.h"

#include <unistd.h>

#include <algorithm>
#include <future>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/strings/str_cat.h"
#include "reward/code/bwrap_command.h"
#include "reward/code/harness_source.h"
#include "reward/code/sandbox_process.h"

namespace forge::reward::code {
namespace {

namespace asio = boost::asio;
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr double kJobSlackSeconds = 1.0;  // per job, over runs x wall_seconds
constexpr auto kBackstopGrace = std::chrono::seconds(3);
constexpr int kFailuresBeforeFailingJobs = 3;

double seconds(WorkerPool::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

struct WorkerPool::Job {
  nlohmann::json job;
  int runs = 1;
  Clock::time_point deadline;
  std::promise<absl::StatusOr<Outcome>> promise;
  bool done = false;
  int worker_id = -1;  // fresh-sandbox mode: the sandbox started for this job
  std::unique_ptr<asio::steady_timer> queue_timer;
};

WorkerPool::WorkerPool(const Options& options)
    : options_(options), guard_(asio::make_work_guard(io_)) {}

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::create(const Options& options) {
  if (absl::Status s = options.sandbox.validate(); !s.ok()) return s;
  if (options.workers < 1 || options.workers > 256) {
    return absl::InvalidArgumentError("code rule: workers must be in [1, 256]");
  }
  for (const std::string* path : {&options.sandbox.bwrap_path, &options.sandbox.python_path}) {
    if (access(path->c_str(), X_OK) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("sandbox config: ", *path, " is not an executable file"));
    }
  }
  // The sandboxes' inits outlive bwrap for a moment when it is killed: they are re-parented to
  // this process, which reaps them (sandbox_process.h), rather than to PID 1.
  become_child_subreaper();
  std::unique_ptr<WorkerPool> pool(new WorkerPool(options));
  const SandboxConfig& c = options.sandbox;
  pool->argv_ = bwrap_argv(c, harness_source(), sandbox_spawn_library_hex());
  pool->limits_ = {{"wall_seconds", c.wall_seconds},     {"cpu_seconds", c.cpu_seconds},
                   {"memory_bytes", c.memory_bytes},     {"max_processes", c.max_processes},
                   {"max_file_bytes", c.max_file_bytes}, {"tmp_bytes", c.tmp_bytes},
                   {"max_open_files", c.max_open_files}, {"max_output_bytes", c.max_output_bytes}};
  bool root = geteuid() == 0;
  pool->uid_ = root ? c.sandbox_uid : static_cast<int>(getuid());
  pool->gid_ = root ? c.sandbox_gid : static_cast<int>(getgid());
  // PR_SET_PDEATHSIG ties each sandbox to the thread that forked it: always this io thread.
  pool->thread_ = std::thread([p = pool.get()] { p->io_.run(); });
  if (options.reuse_workers) {
    asio::post(pool->io_, [p = pool.get()] {
      for (int i = 0; i < p->options_.workers; ++i) p->spawn_worker(nullptr);
    });
  }
  return pool;
}

WorkerPool::~WorkerPool() {
  std::promise<void> stopped;
  asio::post(io_, [this, &stopped] {
    stopping_ = true;
    for (auto& timer : respawn_timers_) timer->cancel();
    respawn_timers_.clear();
    for (auto& w : workers_) w->begin_shut_down();
    Clock::time_point grace = Clock::now() + std::chrono::seconds(2);
    for (auto& w : workers_) w->shut_down(grace);
    workers_.clear();
    fail_queue(absl::CancelledError("sandbox pool shut down"));
    publish_state();
    stopped.set_value();
  });
  stopped.get_future().wait();
  guard_.reset();
  thread_.join();
}

void WorkerPool::spawn_worker(std::shared_ptr<Job> dedicated) {
  if (stopping_) return;
  SandboxWorker::Listener listener;
  listener.on_ready = [this](SandboxWorker& w) { on_ready(w); };
  listener.on_exit = [this](SandboxWorker& w, const std::string& why) { on_exit(w, why); };
  absl::StatusOr<std::shared_ptr<SandboxWorker>> w =
      SandboxWorker::start(io_, argv_, uid_, gid_, next_id_++, kStartTimeout, std::move(listener));
  if (!w.ok()) {
    last_error_ = std::string(w.status().message());
    ++start_failures_;
    if (dedicated) {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), dedicated), queue_.end());
      return finish(dedicated, w.status());
    }
    if (start_failures_ >= kFailuresBeforeFailingJobs) fail_queue(w.status());
    return schedule_respawn();
  }
  workers_.push_back(*w);
  started_.fetch_add(1);
  // Fresh-sandbox mode: the job waits for this worker, which is killed after it.
  if (dedicated) dedicated->worker_id = (*w)->id();
  publish_state();
}

std::shared_ptr<SandboxWorker> WorkerPool::find(const SandboxWorker& w) const {
  for (const auto& p : workers_) {
    if (p.get() == &w) return p;
  }
  return nullptr;
}

void WorkerPool::on_ready(SandboxWorker& w) {
  start_failures_ = 0;
  std::shared_ptr<SandboxWorker> self = find(w);
  if (!self) return;
  if (!options_.reuse_workers) {
    if (w.jobs_done() > 0) {
      w.kill();  // one job per sandbox
      return;
    }
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if ((*it)->worker_id == w.id()) {
        std::shared_ptr<Job> job = *it;
        queue_.erase(it);
        return start_job(self, job);
      }
    }
    w.kill();
    return;
  }
  publish_state();
  dispatch();
}

void WorkerPool::on_exit(SandboxWorker& w, const std::string& why) {
  std::shared_ptr<SandboxWorker> self = find(w);
  workers_.erase(std::remove(workers_.begin(), workers_.end(), self), workers_.end());
  publish_state();
  if (stopping_) return;
  if (!w.ever_ready()) {
    last_error_ = why;
    ++start_failures_;
  }
  if (!options_.reuse_workers) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if ((*it)->worker_id == w.id()) {
        std::shared_ptr<Job> job = *it;
        queue_.erase(it);
        finish(job, absl::UnavailableError(absl::StrCat("sandbox did not start: ", why)));
        break;
      }
    }
    return dispatch();
  }
  if (!w.ever_ready() && start_failures_ >= kFailuresBeforeFailingJobs) {
    fail_queue(absl::UnavailableError(absl::StrCat("sandbox workers do not start: ", why)));
  }
  if (w.ever_ready()) return spawn_worker(nullptr);
  schedule_respawn();
}

void WorkerPool::schedule_respawn() {
  // Backoff grows with consecutive start failures: 200 ms, 400 ms, ... up to 5 s.
  auto backoff = std::chrono::milliseconds(std::min(5000, 100 << std::min(start_failures_, 6)));
  auto timer = std::make_shared<asio::steady_timer>(io_, backoff);
  respawn_timers_.push_back(timer);
  timer->async_wait([this, timer](const boost::system::error_code& ec) {
    if (ec) return;
    respawn_timers_.erase(std::remove(respawn_timers_.begin(), respawn_timers_.end(), timer),
                          respawn_timers_.end());
    spawn_worker(nullptr);
  });
}

void WorkerPool::dispatch() {
  if (stopping_) return;
  if (!options_.reuse_workers) {
    std::vector<std::shared_ptr<Job>> waiting;
    for (auto& job : queue_) {
      if (job->worker_id < 0) waiting.push_back(job);
    }
    size_t free = options_.workers > static_cast<int>(workers_.size())
                      ? static_cast<size_t>(options_.workers - workers_.size())
                      : 0;
    for (size_t i = 0; i < waiting.size() && i < free; ++i) spawn_worker(waiting[i]);
    return;
  }
  for (auto& w : workers_) {
    if (queue_.empty()) break;
    if (!w->idle()) continue;
    std::shared_ptr<Job> job = queue_.front();
    queue_.pop_front();
    start_job(w, job);
  }
  publish_state();
}

void WorkerPool::start_job(const std::shared_ptr<SandboxWorker>& w,
                           const std::shared_ptr<Job>& job) {
  if (job->queue_timer) job->queue_timer->cancel();
  Clock::time_point now = Clock::now();
  double remaining = seconds(job->deadline - now) - 0.05;
  if (remaining <= 0) {
    finish(job,
           absl::DeadlineExceededError("code rule: deadline passed before a sandbox was free"));
    if (!options_.reuse_workers) w->kill();
    return dispatch();
  }
  double natural = job->runs * options_.sandbox.wall_seconds + kJobSlackSeconds;
  bool limited = remaining < natural;
  double budget = std::min(natural, remaining);
  job->job["limits"] = limits_;
  job->job["job_seconds"] = budget;
  std::string text = job->job.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  job->job = nullptr;  // the worker has the text; free the copy
  auto backstop =
      now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(budget)) +
      kBackstopGrace;
  w->run(std::move(text), backstop, [this, job, limited](absl::StatusOr<nlohmann::json> r) {
    if (!r.ok()) return finish(job, r.status());
    Outcome out;
    out.result = *std::move(r);
    out.deadline_limited = limited;
    finish(job, std::move(out));
  });
}

void WorkerPool::finish(const std::shared_ptr<Job>& job, absl::StatusOr<Outcome> outcome) {
  if (job->done) return;
  job->done = true;
  if (job->queue_timer) job->queue_timer->cancel();
  job->promise.set_value(std::move(outcome));
}

void WorkerPool::fail_queue(const absl::Status& status) {
  std::deque<std::shared_ptr<Job>> queue;
  queue.swap(queue_);
  for (auto& job : queue) finish(job, status);
}

std::atomic<int> busy_workers_in_process{0};

int busy_sandbox_workers() { return busy_workers_in_process.load(); }

void WorkerPool::publish_state() {
  std::lock_guard<std::mutex> lock(mu_);
  pids_.clear();
  idle_count_ = 0;
  int busy = 0;
  for (const auto& w : workers_) {
    if (w->pid() > 0) pids_.push_back(w->pid());
    if (w->idle()) ++idle_count_;
    if (w->busy()) ++busy;
  }
  busy_workers_in_process.fetch_add(busy - busy_count_);
  busy_count_ = busy;
  cv_.notify_all();
}

absl::StatusOr<WorkerPool::Outcome> WorkerPool::run(nlohmann::json job, int runs,
                                                    Clock::time_point deadline) {
  auto j = std::make_shared<Job>();
  j->job = std::move(job);
  j->runs = std::max(1, runs);
  j->deadline = deadline;
  std::future<absl::StatusOr<Outcome>> result = j->promise.get_future();
  asio::post(io_, [this, j] {
    if (stopping_) return finish(j, absl::CancelledError("sandbox pool shut down"));
    if (options_.reuse_workers && workers_.empty() &&
        start_failures_ >= kFailuresBeforeFailingJobs) {
      return finish(
          j, absl::UnavailableError(absl::StrCat("sandbox workers do not start: ", last_error_)));
    }
    j->queue_timer = std::make_unique<asio::steady_timer>(io_, j->deadline);
    std::weak_ptr<Job> weak = j;
    j->queue_timer->async_wait([this, weak](const boost::system::error_code& ec) {
      auto job = weak.lock();
      if (ec || !job || job->done) return;
      auto it = std::find(queue_.begin(), queue_.end(), job);
      if (it == queue_.end()) return;  // running: the worker's backstop covers it
      queue_.erase(it);
      finish(job,
             absl::DeadlineExceededError("code rule: deadline passed before a sandbox was free"));
    });
    queue_.push_back(j);
    dispatch();
  });
  return result.get();
}

std::vector<pid_t> WorkerPool::worker_pids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pids_;
}

bool WorkerPool::wait_until_ready(int n, Clock::duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return idle_count_ >= n; });
}

int WorkerPool::started() const { return started_.load(); }

}  // namespace forge::reward::code
