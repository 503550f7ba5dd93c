// A running reward server: a Grader behind RewardService, plus the standard health service and
// reflection (forge::net::start_server). `forge reward-server` is this plus signal handling.
//
// Thread-safety: shutdown() may be called from any thread, once or more.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/security.h"
#include "reward/grader.h"
#include "reward/reward_config.h"
#include "reward/reward_metrics.h"
#include "telemetry/registry.h"

namespace grpc {
class Server;
}

namespace forge::reward {

class RewardServiceImpl;

class RewardServer {
 public:
  // Builds the rules from `config` and serves on `listen_address` ("HOST:PORT", port 0 = any)
  // under `security` (proto/security.h). Errors name the config key, the plugin file, or the
  // address that could not be bound.
  static absl::StatusOr<std::unique_ptr<RewardServer>> start(const std::string& listen_address,
                                                             const RewardConfig& config,
                                                             const net::Security& security = {});
  static absl::StatusOr<std::unique_ptr<RewardServer>> start(const std::string& listen_address,
                                                             std::unique_ptr<Grader> grader,
                                                             const net::Security& security = {});
  ~RewardServer();  // shutdown(0)
  RewardServer(const RewardServer&) = delete;
  RewardServer& operator=(const RewardServer&) = delete;

  int port() const { return port_; }
  const Grader& grader() const { return *grader_; }
  // The server's Prometheus series (reward_metrics.h), for its /metrics.
  const telemetry::Registry& metrics() const { return registry_; }

  // Stops taking calls; calls still running after `grace` are cancelled (their batches stop).
  void shutdown(std::chrono::milliseconds grace);
  // Blocks until the server has shut down.
  void wait();

 private:
  RewardServer() = default;
  std::shared_ptr<const Grader> grader_;
  telemetry::Registry registry_;
  std::unique_ptr<RewardMetrics> metrics_;
  std::unique_ptr<RewardServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace forge::reward
