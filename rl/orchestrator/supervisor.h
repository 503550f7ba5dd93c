// Runs `forge run`'s child services and watches them and the run's signals on a Boost.Asio event
// loop: starts `forge <subcommand>` children on free loopback ports and waits for their health,
// notices a child that dies (health() then names it), turns SIGINT/SIGTERM into a stop request, and
// stops every child on stop_all() or destruction, so nothing is left running. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge::rl {

class Supervisor {
 public:
  // Child logs go to `log_dir`/<name>.log; children run `executable` ("" = this program). Installs
  // the SIGINT/SIGTERM handlers while it lives.
  explicit Supervisor(std::string log_dir, std::string executable = "");
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Where a child service listens: TCP on 127.0.0.1 (a free port), or a Unix socket
  // (`log_dir`/<name>.sock, or /tmp/forge-<pid>-<name>.sock when that path is too long), which
  // moves bulk data several times faster than TCP loopback (rollout workers' weight updates).
  enum class Listen { kTcpLoopback, kUnixSocket };

  // Starts `<executable> <args...> --listen ADDRESS` as child `name` and waits until it answers
  // grpc.health.v1 SERVING. Returns ADDRESS ("127.0.0.1:<port>" or "unix:<path>"). On failure the
  // message names the child, how it ended, and the tail of its log.
  absl::StatusOr<std::string> start_service(const std::string& name,
                                            const std::vector<std::string>& args,
                                            std::chrono::milliseconds health_timeout,
                                            Listen listen = Listen::kTcpLoopback);

  // OK while every child runs; else an error naming the first child that ended and how.
  absl::Status health() const;

  // Number of SIGINT/SIGTERM received (a second one means "abandon the step now").
  int stop_signals() const;
  bool stop_requested() const { return stop_signals() > 0; }
  // Called on the event loop thread at each SIGINT/SIGTERM with the count so far.
  void set_on_stop_request(std::function<void(int)> callback);

  // SIGTERM every child, SIGKILL what is left after `grace`. Idempotent.
  void stop_all(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

 private:
  std::string unix_socket_path(const std::string& name) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace forge::rl
