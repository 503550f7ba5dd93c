#include "reward/code/sandbox_worker.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "reward/code/sandbox_process.h"
#include "reward/grade_error.h"

namespace forge::reward::code {
namespace {

namespace asio = boost::asio;
constexpr uint32_t kMaxResultBytes = 1u << 20;
constexpr size_t kDiagTailBytes = 2048;
constexpr auto kCleanupTimeout = std::chrono::seconds(10);

}  // namespace

SandboxWorker::SandboxWorker(asio::io_context& io, int id, Listener listener)
    : command_(io),
      reply_(io),
      diag_(io),
      info_(io),
      timer_(io),
      id_(id),
      listener_(std::move(listener)) {}

SandboxWorker::~SandboxWorker() { shut_down(); }

absl::StatusOr<std::shared_ptr<SandboxWorker>> SandboxWorker::start(
    asio::io_context& io, const std::vector<std::string>& argv, int uid, int gid, int id,
    Clock::duration start_timeout, Listener listener) {
  absl::StatusOr<SpawnedProcess> proc = spawn_process(argv, uid, gid, /*with_info_fd=*/true);
  if (!proc.ok()) return proc.status();
  std::shared_ptr<SandboxWorker> w(new SandboxWorker(io, id, std::move(listener)));
  w->pid_ = proc->pid;
  boost::system::error_code ec;
  w->command_.assign(asio::local::stream_protocol(), proc->command_fd, ec);
  if (!ec) w->reply_.assign(proc->reply_fd, ec);
  if (!ec) w->diag_.assign(proc->diag_fd, ec);
  if (!ec) w->info_.assign(proc->info_fd, ec);
  if (ec) {
    w->shut_down();
    return absl::InternalError(absl::StrCat("sandbox worker: ", ec.message()));
  }
  w->arm_timer(Clock::now() + start_timeout);
  w->read_type();
  w->read_diagnostics();
  w->read_info();
  return w;
}

void SandboxWorker::arm_timer(Clock::time_point when) {
  timer_.expires_at(when);
  std::weak_ptr<SandboxWorker> weak = weak_from_this();
  State armed_in = state_;
  timer_.async_wait([weak, armed_in](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->state_ != armed_in) return;
    if (armed_in == State::kBusy) {
      self->complete(nlohmann::json{{"status", "timeout"},
                                    {"passed", 0},
                                    {"total", 0},
                                    {"detail", "no answer from the sandbox in time; killed it"}});
    }
    self->kill();
  });
}

void SandboxWorker::read_type() {
  auto self = shared_from_this();
  asio::async_read(reply_, asio::buffer(&type_, 1),
                   [self](const boost::system::error_code& ec, size_t) {
                     if (ec)
                       return self->on_closed(ec == asio::error::eof ? "exited" : ec.message());
                     if (self->type_ == 'K') {
                       self->on_ready_byte();
                       if (self->state_ != State::kDead) self->read_type();
                     } else if (self->type_ == 'J') {
                       self->read_length();
                     } else {
                       self->kill();
                       self->on_closed("protocol error from the sandbox worker");
                     }
                   });
}

void SandboxWorker::read_length() {
  auto self = shared_from_this();
  asio::async_read(
      reply_, asio::buffer(length_), [self](const boost::system::error_code& ec, size_t) {
        if (ec) return self->on_closed(ec.message());
        uint32_t n = uint32_t(self->length_[0]) | uint32_t(self->length_[1]) << 8 |
                     uint32_t(self->length_[2]) << 16 | uint32_t(self->length_[3]) << 24;
        if (n > kMaxResultBytes) {
          self->kill();
          return self->on_closed("oversized result from the sandbox worker");
        }
        self->body_.assign(n, '\0');
        self->read_body();
      });
}

void SandboxWorker::read_body() {
  auto self = shared_from_this();
  asio::async_read(reply_, asio::buffer(body_),
                   [self](const boost::system::error_code& ec, size_t) {
                     if (ec) return self->on_closed(ec.message());
                     self->on_result(self->body_);
                     if (self->state_ != State::kDead) self->read_type();
                   });
}

void SandboxWorker::read_diagnostics() {
  auto self = shared_from_this();
  diag_.async_read_some(asio::buffer(diag_buf_),
                        [self](const boost::system::error_code& ec, size_t n) {
                          if (ec) return;
                          self->diag_tail_.append(self->diag_buf_.data(), n);
                          if (self->diag_tail_.size() > kDiagTailBytes) {
                            self->diag_tail_.erase(0, self->diag_tail_.size() - kDiagTailBytes);
                          }
                          self->read_diagnostics();
                        });
}

void SandboxWorker::read_info() {
  auto self = shared_from_this();
  info_.async_read_some(asio::buffer(info_buf_),
                        [self](const boost::system::error_code& ec, size_t n) {
                          if (ec) return;
                          if (self->info_text_.size() < 4096) {
                            self->info_text_.append(self->info_buf_.data(), n);
                          }
                          self->init_pid_ = sandbox_init_pid(self->info_text_);
                          if (self->init_pid_ < 0) self->read_info();
                        });
}

void SandboxWorker::reap_sandbox_init() {
  boost::system::error_code ignored;
  if (init_pid_ < 0 && info_.is_open()) {
    // bwrap is reaped: whatever it wrote is in the pipe, and the pipe is at its end.
    info_.non_blocking(false, ignored);
    char buf[256];
    for (int i = 0; i < 16 && init_pid_ < 0; ++i) {
      const size_t n = info_.read_some(asio::buffer(buf), ignored);
      if (ignored || n == 0) break;
      info_text_.append(buf, n);
      init_pid_ = sandbox_init_pid(info_text_);
    }
  }
  info_.close(ignored);
  if (init_pid_ > 0) reap_orphan(init_pid_);
  init_pid_ = -1;
}

void SandboxWorker::on_ready_byte() {
  if (state_ != State::kStarting && state_ != State::kCleaning) {
    kill();
    return on_closed("unexpected ready message from the sandbox worker");
  }
  timer_.cancel();
  state_ = State::kIdle;
  ever_ready_ = true;
  if (listener_.on_ready) listener_.on_ready(*this);
}

void SandboxWorker::on_result(const std::string& body) {
  if (state_ != State::kBusy) return;  // the backstop already answered; the worker is dying
  nlohmann::json result = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  state_ = State::kCleaning;
  ++jobs_done_;
  arm_timer(Clock::now() + kCleanupTimeout);
  if (!result.is_object()) {
    complete(absl::InternalError("sandbox worker sent a malformed result"));
  } else {
    complete(std::move(result));
  }
}

void SandboxWorker::run(std::string job_json, Clock::time_point backstop, ResultCallback done) {
  state_ = State::kBusy;
  done_ = std::move(done);
  uint32_t n = static_cast<uint32_t>(job_json.size());
  out_.clear();
  out_.push_back('R');
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out_ += job_json;
  arm_timer(backstop);
  auto self = shared_from_this();
  // The command fd is a socket: Asio sends with MSG_NOSIGNAL, so a dead worker is an error code,
  // never a SIGPIPE.
  asio::async_write(command_, asio::buffer(out_),
                    [self](const boost::system::error_code& ec, size_t) {
                      if (ec && self->state_ != State::kDead)
                        self->kill();  // the reply side reports the death
                    });
}

void SandboxWorker::complete(absl::StatusOr<nlohmann::json> result) {
  if (!done_) return;
  ResultCallback done = std::move(done_);
  done_ = nullptr;
  done(std::move(result));
}

void SandboxWorker::kill() {
  if (pid_ > 0 && state_ != State::kDead) ::kill(pid_, SIGKILL);
}

void SandboxWorker::on_closed(const std::string& why) {
  if (state_ == State::kDead) return;
  bool was_busy = state_ == State::kBusy;
  state_ = State::kDead;
  timer_.cancel();
  kill_and_reap(pid_);
  pid_ = -1;
  reap_sandbox_init();
  boost::system::error_code ignored;
  command_.close(ignored);
  reply_.close(ignored);
  diag_.close(ignored);
  std::string detail = why;
  if (!diag_tail_.empty()) absl::StrAppend(&detail, ": ", diag_tail_);
  if (was_busy) {
    complete(with_error_code(
        absl::UnavailableError(absl::StrCat("sandbox worker died during a job (", detail, ")")),
        kErrorSandboxCrashed));
  }
  if (listener_.on_exit) listener_.on_exit(*this, detail);
}

void SandboxWorker::begin_shut_down() {
  listener_ = Listener{};
  if (state_ == State::kDead) return;
  boost::system::error_code ignored;
  if (state_ == State::kBusy) {
    ::kill(pid_, SIGKILL);
  } else {
    command_.close(ignored);  // the worker finishes its cleanup, reads EOF and exits
  }
}

void SandboxWorker::shut_down(Clock::time_point grace) {
  listener_ = Listener{};
  if (state_ != State::kDead) {
    state_ = State::kDead;
    bool reaped = false;
    while (!reaped && Clock::now() < grace) {
      pid_t r = waitpid(pid_, nullptr, WNOHANG);
      reaped = r == pid_ || (r < 0 && errno == ECHILD);
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!reaped) kill_and_reap(pid_);
    // bwrap's init dies of --die-with-parent, and the pid namespace with it: it is ours to reap.
    reap_sandbox_init();
    pid_ = -1;
  }
  boost::system::error_code ignored;
  timer_.cancel();
  command_.close(ignored);
  reply_.close(ignored);
  diag_.close(ignored);
  info_.close(ignored);
  complete(absl::CancelledError("sandbox pool shut down"));
}

}  // namespace forge::reward::code
