#include "rollout/worker_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "proto/grpc_util.h"
#include "rollout/rollout_service.h"

namespace forge::rollout {

absl::StatusOr<std::unique_ptr<RolloutWorker>> RolloutWorker::start(
    const std::string& listen_address, std::unique_ptr<Engine> engine,
    const net::Security& security) {
  std::unique_ptr<RolloutWorker> worker(new RolloutWorker());
  worker->engine_ = std::move(engine);
  worker->service_ = std::make_unique<RolloutServiceImpl>(*worker->engine_);
  net::ServerOptions options;
  options.security = security;
  absl::StatusOr<net::RunningServer> running = net::start_server(
      listen_address, {{worker->service_.get(), forge::v1::RolloutService::service_full_name()}},
      options);
  if (!running.ok()) return running.status();
  worker->server_ = std::move(running->server);
  worker->port_ = running->port;
  if (absl::StartsWith(listen_address, "unix:")) worker->unix_address_ = listen_address;
  return worker;
}

std::string RolloutWorker::address() const {
  return unix_address_.empty() ? absl::StrCat("127.0.0.1:", port_) : unix_address_;
}

RolloutWorker::~RolloutWorker() { shutdown(std::chrono::milliseconds(0)); }

void RolloutWorker::shutdown(std::chrono::milliseconds grace) {
  if (server_) {
    if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
      health->Shutdown();  // every service reports NOT_SERVING from now on
    }
    server_->Shutdown(std::chrono::system_clock::now() + grace);
  }
  if (engine_) engine_->stop();
}

void RolloutWorker::wait() {
  if (server_) server_->Wait();
}

}  // namespace forge::rollout
