// One pre-started sandbox: a bwrap process running reward/code/harness.py's worker loop, driven
// from a Boost.Asio io_context (the pool's single io thread). It runs one job at a time: each job
// forks fresh processes inside the sandbox, and the worker kills and reaps every one of them
// before it says it is ready again, so one job cannot affect a later one (see harness.py).
//
// Limits per program run are set inside the sandbox. RLIMIT_NPROC deserves a note: since Linux
// 5.14 the kernel counts processes per (user namespace, uid), and each run gets its own user
// namespace, so the limit bounds that run alone, not the host user or the other workers. The host
// side runs bwrap as a non-root uid when it is root (the kernel does not enforce RLIMIT_NPROC for
// root). The wall clock is enforced twice: by the harness (per run) and here, as a backstop that
// SIGKILLs bwrap; bwrap's --die-with-parent then takes the whole pid namespace down. The sandbox's
// init, orphaned when bwrap goes first, is re-parented to this process (a child subreaper, see
// sandbox_process.h) and reaped here: after a worker is gone, nothing of it is left, zombies
// included.
//
// Not thread-safe: every method, and every callback, runs on the io_context's thread.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace forge::reward::code {

class SandboxWorker : public std::enable_shared_from_this<SandboxWorker> {
 public:
  using Clock = std::chrono::steady_clock;
  using ResultCallback = std::function<void(absl::StatusOr<nlohmann::json>)>;
  struct Listener {
    std::function<void(SandboxWorker&)> on_ready;                         // idle: can run a job
    std::function<void(SandboxWorker&, const std::string& why)> on_exit;  // gone; reaped
  };

  // Spawns bwrap with `argv` (bwrap_argv) as uid/gid when root. Returns once the process exists;
  // on_ready follows when the harness has started (or on_exit if it never does by
  // `start_timeout`).
  static absl::StatusOr<std::shared_ptr<SandboxWorker>> start(boost::asio::io_context& io,
                                                              const std::vector<std::string>& argv,
                                                              int uid, int gid, int id,
                                                              Clock::duration start_timeout,
                                                              Listener listener);
  ~SandboxWorker();
  SandboxWorker(const SandboxWorker&) = delete;
  SandboxWorker& operator=(const SandboxWorker&) = delete;

  // Requires idle(). Sends the job (harness job JSON, already serialised). `done` is called once:
  // with the harness's result object; with a synthetic {"status":"timeout"} result if no answer
  // came by `backstop` (the sandbox is then killed); or with Unavailable if the sandbox died.
  void run(std::string job_json, Clock::time_point backstop, ResultCallback done);

  // SIGKILLs bwrap (its --die-with-parent takes the sandbox down); on_exit follows.
  void kill();
  // Shutdown in two steps, so that many workers stop in parallel: begin_shut_down() asks an idle
  // worker to exit (EOF on its command socket: the worker, bwrap's init and bwrap exit in order,
  // so when bwrap is reaped its whole pid namespace is gone) and SIGKILLs a busy one;
  // shut_down() waits until `grace` for that, then SIGKILLs, reaps, and closes every descriptor.
  // No callback follows; a job in flight is Cancelled.
  void begin_shut_down();
  void shut_down(Clock::time_point grace = Clock::time_point::min());

  bool idle() const { return state_ == State::kIdle; }
  bool busy() const { return state_ == State::kBusy; }
  bool ever_ready() const { return ever_ready_; }
  int id() const { return id_; }
  pid_t pid() const { return pid_; }
  int jobs_done() const { return jobs_done_; }

 private:
  enum class State { kStarting, kIdle, kBusy, kCleaning, kDead };
  SandboxWorker(boost::asio::io_context& io, int id, Listener listener);
  void read_type();
  void read_length();
  void read_body();
  void on_ready_byte();
  void on_result(const std::string& body);
  void on_closed(const std::string& why);
  void read_diagnostics();
  void read_info();
  void reap_sandbox_init();
  void arm_timer(Clock::time_point when);
  void complete(absl::StatusOr<nlohmann::json> result);

  boost::asio::local::stream_protocol::socket command_;
  boost::asio::posix::stream_descriptor reply_;
  boost::asio::posix::stream_descriptor diag_;
  boost::asio::posix::stream_descriptor info_;  // bwrap's --info-fd
  boost::asio::steady_timer timer_;
  int id_;
  Listener listener_;
  pid_t pid_ = -1;
  State state_ = State::kStarting;
  bool ever_ready_ = false;
  int jobs_done_ = 0;
  char type_ = 0;
  std::array<unsigned char, 4> length_{};
  std::string body_;
  std::string out_;
  std::array<char, 1024> diag_buf_{};
  std::string diag_tail_;  // last bytes of the worker's stderr, for error messages
  ResultCallback done_;
  std::array<char, 256> info_buf_{};
  std::string info_text_;
  pid_t init_pid_ = -1;  // the sandbox's init (bwrap's child), from info_; -1 until known
};

}  // namespace forge::reward::code
