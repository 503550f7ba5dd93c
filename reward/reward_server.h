// A running reward server: a Grader behind RewardService, plus the standard health service and
// reflection (forge::net::start_server). `forge reward-server` is this plus signal handling.
//
// Thread-safety: shutdown() may be called from any thread, once or more.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "reward/grader.h"
#include "reward/reward_config.h"

namespace grpc {
class Server;
}

namespace forge::reward {

class RewardServiceImpl;

class RewardServer {
 public:
  // Builds the rules from `config` and serves on `listen_address` ("HOST:PORT", port 0 = any).
  // Errors name the config key, the plugin file, or the address that could not be bound.
  static absl::StatusOr<std::unique_ptr<RewardServer>> start(const std::string& listen_address,
                                                             const RewardConfig& config);
  static absl::StatusOr<std::unique_ptr<RewardServer>> start(const std::string& listen_address,
                                                             std::unique_ptr<Grader> grader);
  ~RewardServer();  // shutdown(0)
  RewardServer(const RewardServer&) = delete;
  RewardServer& operator=(const RewardServer&) = delete;

  int port() const { return port_; }
  const Grader& grader() const { return *grader_; }

  // Stops taking calls; calls still running after `grace` are cancelled (their batches stop).
  void shutdown(std::chrono::milliseconds grace);
  // Blocks until the server has shut down.
  void wait();

 private:
  RewardServer() = default;
  std::shared_ptr<const Grader> grader_;
  std::unique_ptr<RewardServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace forge::reward
