#include "rl/orchestrator/supervisor.h"

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "proto/grpc_util.h"
#include "rl/orchestrator/child_process.h"

namespace forge::rl {
namespace {

constexpr auto kPollEvery = std::chrono::milliseconds(200);

std::string log_tail(const std::string& path, size_t max_bytes = 1500) {
  std::string text = read_file(path).value_or("");
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

}  // namespace

struct Supervisor::Impl {
  Impl(std::string dir, std::string exe)
      : log_dir(std::move(dir)), executable(std::move(exe)), signals(io, SIGINT, SIGTERM),
        timer(io) {}

  void wait_for_signal() {
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      const int count = ++signal_count;
      std::function<void(int)> callback;
      {
        std::lock_guard<std::mutex> lock(mu);
        callback = on_stop;
      }
      if (callback) callback(count);
      wait_for_signal();
    });
  }

  void poll_children() {
    timer.expires_after(kPollEvery);
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        for (auto& child : children) {
          if (!stopping && failure.ok() && !child->running()) {
            failure = absl::UnavailableError(absl::StrCat(
                "child '", child->name(), "' ", child->exit_description(), "; its log ",
                child->log_path(), " ends with:\n", log_tail(child->log_path())));
          }
        }
      }
      poll_children();
    });
  }

  std::string log_dir;
  std::string executable;
  boost::asio::io_context io;
  boost::asio::signal_set signals;
  boost::asio::steady_timer timer;
  std::thread loop;

  mutable std::mutex mu;
  std::vector<std::unique_ptr<ChildProcess>> children;
  std::vector<std::string> sockets;  // Unix socket files of the children, removed by stop_all
  absl::Status failure;
  bool stopping = false;
  std::function<void(int)> on_stop;
  std::atomic<int> signal_count{0};
};

Supervisor::Supervisor(std::string log_dir, std::string executable)
    : impl_(std::make_unique<Impl>(std::move(log_dir),
                                   executable.empty() ? self_executable() : executable)) {
  std::error_code ec;
  std::filesystem::create_directories(impl_->log_dir, ec);
  impl_->wait_for_signal();
  impl_->poll_children();
  impl_->loop = std::thread([this] { impl_->io.run(); });
}

Supervisor::~Supervisor() {
  stop_all();
  impl_->io.stop();
  if (impl_->loop.joinable()) impl_->loop.join();
}

std::string Supervisor::unix_socket_path(const std::string& name) const {
  // sockaddr_un holds 108 bytes with the terminating NUL.
  std::string path = absl::StrCat(impl_->log_dir, "/", name, ".sock");
  if (path.size() > 100) path = absl::StrCat("/tmp/forge-", ::getpid(), "-", name, ".sock");
  return path;
}

absl::StatusOr<std::string> Supervisor::start_service(const std::string& name,
                                                      const std::vector<std::string>& args,
                                                      std::chrono::milliseconds health_timeout,
                                                      Listen listen) {
  const std::string log_path = absl::StrCat(impl_->log_dir, "/", name, ".log");
  absl::Status last = absl::UnknownError("not started");
  // A port picked free can be taken before the child binds it: try a few.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string address;
    if (listen == Listen::kUnixSocket) {
      const std::string path = unix_socket_path(name);
      std::error_code ignored;
      std::filesystem::remove(path, ignored);  // a leftover of a killed run
      address = "unix:" + path;
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->sockets.push_back(path);
    } else {
      absl::StatusOr<int> port = pick_free_port();
      if (!port.ok()) return port.status();
      address = absl::StrCat("127.0.0.1:", *port);
    }
    std::vector<std::string> argv = {impl_->executable};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--listen");
    argv.push_back(address);
    absl::StatusOr<ChildProcess> started = ChildProcess::start(name, argv, log_path);
    if (!started.ok()) return started.status();
    auto child = std::make_unique<ChildProcess>(std::move(*started));

    const auto deadline = std::chrono::steady_clock::now() + health_timeout;
    while (std::chrono::steady_clock::now() < deadline && child->running() &&
           !stop_requested()) {
      last = net::check_health(address, std::chrono::milliseconds(500));
      if (last.ok()) {
        std::lock_guard<std::mutex> lock(impl_->mu);
        impl_->children.push_back(std::move(child));
        return address;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (stop_requested()) {
      child->stop(std::chrono::milliseconds(1000));
      return absl::CancelledError(absl::StrCat("stopped while starting '", name, "'"));
    }
    if (child->running()) {
      child->stop(std::chrono::milliseconds(1000));
      return absl::DeadlineExceededError(absl::StrCat(
          "child '", name, "' did not become healthy at ", address, " within ",
          health_timeout.count(), " ms (", last.message(), "); its log ", log_path,
          " ends with:\n", log_tail(log_path)));
    }
    last = absl::UnavailableError(absl::StrCat("child '", name, "' ", child->exit_description(),
                                               " while starting; its log ", log_path,
                                               " ends with:\n", log_tail(log_path)));
  }
  return last;
}

absl::Status Supervisor::health() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->failure;
}

int Supervisor::stop_signals() const { return impl_->signal_count.load(); }

void Supervisor::set_on_stop_request(std::function<void(int)> callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->on_stop = std::move(callback);
}

void Supervisor::stop_all(std::chrono::milliseconds grace) {
  std::vector<std::unique_ptr<ChildProcess>> children;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    children.swap(impl_->children);
  }
  // SIGTERM all first so they shut down in parallel, then wait for each.
  for (auto& child : children) {
    if (child->running()) ::kill(-child->pid(), SIGTERM);
  }
  for (auto& child : children) child->stop(grace);
  std::vector<std::string> sockets;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    sockets.swap(impl_->sockets);
  }
  for (const std::string& path : sockets) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
}

}  // namespace forge::rl
