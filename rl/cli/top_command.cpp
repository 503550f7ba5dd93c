// `forge top ADDRESS [--config CONFIG] [--interval S] [--once]`: a live dashboard of a running
// `forge run` over its TrainerService (server.trainer_address): GetStatus and ListWorkers every
// interval, StreamMetrics from step 1 for the sparklines (top_screen.h draws the screen). On a
// terminal the screen is redrawn in place; otherwise each refresh is printed as plain text (ASCII
// sparklines, no escape codes). Ends with the run (state finished/failed, or the service gone after
// it was stopping) or on SIGINT/SIGTERM; --once prints one screen and exits. --config supplies
// the server section's token and TLS settings for a secured trainer.
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "forge/v1/trainer.grpc.pb.h"
#include "proto/grpc_util.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"
#include "rl/cli/top_screen.h"
#include "rl/config/run_config.h"
#include "rl/config/server_security.h"

namespace forge::rl::cli {
namespace {

std::atomic<bool> top_stop{false};

// The metric history, filled by a StreamMetrics reader thread.
class History {
 public:
  void add(const forge::v1::StepMetrics& m) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& values = steps_[m.step()];
    for (const auto& [k, v] : m.values()) values[k] = v;
  }
  std::map<int64_t, std::map<std::string, double>> get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return steps_;
  }

 private:
  mutable std::mutex mu_;
  std::map<int64_t, std::map<std::string, double>> steps_;
};

int terminal_width() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
  return 100;
}

grpc::Status fetch(forge::v1::TrainerService::Stub& stub, const std::string& address,
                   TopSnapshot* out) {
  grpc::ClientContext status_context;
  status_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  forge::v1::TrainerStatus status;
  grpc::Status st = stub.GetStatus(&status_context, forge::v1::GetStatusRequest(), &status);
  if (!st.ok()) return st;
  out->address = address;
  out->state = status.state();
  out->step = status.step();
  out->total_steps = status.total_steps();
  out->policy_version = status.policy_version();
  out->elapsed_s = status.elapsed_s();
  out->paused = status.paused();
  out->stop_requested = status.stop_requested();
  grpc::ClientContext workers_context;
  workers_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  forge::v1::ListWorkersResponse workers;
  st = stub.ListWorkers(&workers_context, forge::v1::ListWorkersRequest(), &workers);
  if (!st.ok()) return st;
  out->workers.clear();
  for (const auto& w : workers.workers()) {
    out->workers.push_back({w.address(), w.role(), w.healthy(), w.policy_version(),
                            w.active_sequences(), w.queued_sequences(), w.kv_cache_usage(),
                            w.error()});
  }
  return grpc::Status::OK;
}

int run_top(const std::string& address, const std::string& config_path, double interval,
            bool once) {
  const char* name = "top";
  if (!(interval > 0)) return fail(name, "--interval: must be > 0", kExitUsage);
  if (!config_path.empty()) {
    absl::StatusOr<RunConfig> config = RunConfig::load(config_path);
    if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
    absl::StatusOr<net::Security> security = load_security(config->server, false);
    if (!security.ok()) return fail(name, std::string(security.status().message()), kExitUsage);
    net::set_client_security(*security);
  }
  top_stop = false;
  std::signal(SIGINT, [](int) { top_stop = true; });
  std::signal(SIGTERM, [](int) { top_stop = true; });
  const bool tty = ::isatty(STDOUT_FILENO) == 1;

  auto channel = net::make_channel(address);
  auto stub = forge::v1::TrainerService::NewStub(channel);
  History history;
  grpc::ClientContext stream_context;
  std::thread reader([&] {
    forge::v1::StreamMetricsRequest request;
    request.set_from_step(1);
    auto stream = stub->StreamMetrics(&stream_context, request);
    forge::v1::StepMetrics m;
    while (stream->Read(&m)) history.add(m);
    stream->Finish();
  });

  int code = kExitOk;
  bool was_stopping = false;
  TopSnapshot snapshot;
  for (bool first = true; !top_stop; first = false) {
    const grpc::Status st = fetch(*stub, address, &snapshot);
    if (!st.ok()) {
      if (was_stopping) break;  // the run ended under us
      code = fail(name, absl::StrCat("TrainerService at ", address, ": ", st.error_message()));
      break;
    }
    // Give the first screen the history the stream replays.
    if (first) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    snapshot.history = history.get();
    const std::string screen = render_top(snapshot, tty ? terminal_width() : 100, tty);
    if (tty) {
      std::cout << "\x1b[H\x1b[2J" << screen << std::flush;
    } else {
      std::cout << screen << "\n" << std::flush;
    }
    was_stopping = snapshot.state == "stopping" || snapshot.stop_requested;
    if (once || snapshot.state == "finished" || snapshot.state == "failed") break;
    for (double waited = 0; waited < interval && !top_stop; waited += 0.05) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  stream_context.TryCancel();
  reader.join();
  return code;
}

}  // namespace

Command add_top_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("top", description_of("top"));
  auto address = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto interval = std::make_shared<double>(1.0);
  auto once = std::make_shared<bool>(false);
  app->add_option("address", *address, "the run's TrainerService (server.trainer_address)")
      ->required();
  app->add_option("--config", *config, "run config whose server section has the token / TLS files");
  app->add_option("--interval", *interval, "seconds between refreshes (default 1)");
  app->add_flag("--once", *once, "print one screen and exit");
  return {app, [=] { return run_top(*address, *config, *interval, *once); }};
}

}  // namespace forge::rl::cli
