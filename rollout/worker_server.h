// A running rollout worker: an Engine behind RolloutService, plus the standard health service and
// reflection (forge::net::start_server). `forge rollout-worker` is this plus model loading and
// signal handling; tests and benches start it in-process on "127.0.0.1:0".
// Thread-safety: shutdown() may be called from any thread, once or more.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/security.h"
#include "rollout/engine.h"

namespace grpc {
class Server;
}

namespace forge::rollout {

class RolloutServiceImpl;

class RolloutWorker {
 public:
  // Serves `engine` on `listen_address` ("HOST:PORT", port 0 = any free port, or "unix:PATH", a
  // Unix socket: several times TCP loopback's throughput for weight updates on the same host)
  // under `security` (proto/security.h); the error names an address that cannot be bound.
  static absl::StatusOr<std::unique_ptr<RolloutWorker>> start(const std::string& listen_address,
                                                              std::unique_ptr<Engine> engine,
                                                              const net::Security& security = {});
  ~RolloutWorker();  // shutdown(0)
  RolloutWorker(const RolloutWorker&) = delete;
  RolloutWorker& operator=(const RolloutWorker&) = delete;

  int port() const { return port_; }  // TCP only
  // Where a client on this host reaches the worker: "127.0.0.1:PORT" or the "unix:PATH" served.
  std::string address() const;
  Engine& engine() { return *engine_; }

  // Health turns NOT_SERVING and new calls are refused; calls still running after `grace` are
  // cancelled (their requests leave the engine); then the engine stops.
  void shutdown(std::chrono::milliseconds grace);
  // Blocks until the server has shut down.
  void wait();

 private:
  RolloutWorker() = default;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RolloutServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string unix_address_;  // "unix:PATH" when serving on a Unix socket
};

}  // namespace forge::rollout
