#include "reward/reward_server.h"

#include "base/status_macros.h"
#include "proto/grpc_util.h"
#include "reward/reward_service.h"

namespace forge::reward {

absl::StatusOr<std::unique_ptr<RewardServer>> RewardServer::start(const std::string& listen_address,
                                                                  const RewardConfig& config,
                                                                  const net::Security& security) {
  ASSIGN_OR_RETURN(std::unique_ptr<Grader> grader, Grader::create(config));
  return start(listen_address, std::move(grader), security);
}

absl::StatusOr<std::unique_ptr<RewardServer>> RewardServer::start(const std::string& listen_address,
                                                                  std::unique_ptr<Grader> grader,
                                                                  const net::Security& security) {
  std::unique_ptr<RewardServer> server(new RewardServer());
  server->grader_ = std::move(grader);
  server->metrics_ = std::make_unique<RewardMetrics>(server->registry_, *server->grader_);
  server->service_ = std::make_unique<RewardServiceImpl>(server->grader_, server->metrics_.get());
  net::ServerOptions options;
  options.security = security;
  ASSIGN_OR_RETURN(
      net::RunningServer running,
      net::start_server(listen_address,
                        {{server->service_.get(), forge::v1::RewardService::service_full_name()}},
                        options));
  server->server_ = std::move(running.server);
  server->port_ = running.port;
  return server;
}

RewardServer::~RewardServer() {
  if (server_ == nullptr) return;  // start() failed
  shutdown(std::chrono::milliseconds(0));
  server_->Wait();
}

void RewardServer::shutdown(std::chrono::milliseconds grace) {
  server_->Shutdown(std::chrono::system_clock::now() + grace);
}

void RewardServer::wait() { server_->Wait(); }

}  // namespace forge::reward
