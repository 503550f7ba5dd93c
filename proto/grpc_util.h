// What every Forge gRPC server and client shares: servers that always serve grpc.health.v1.Health
// and reflection under the process's authentication (security.h), channels that carry the
// process's client credentials, health probes, and one mapping between absl::Status and
// grpc::Status.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/security.h"

namespace forge::net {

// Same code, same message. Handlers map errors once, through these.
grpc::Status to_grpc(const absl::Status& status);
absl::Status from_grpc(const grpc::Status& status);

struct ServerOptions {
  int max_message_bytes = 512 << 20;  // weight chunks and large batches
  Security security;                  // servers only: TLS, bearer token, --insecure
};

// A running server and the port it bound (useful with "127.0.0.1:0").
struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// A service to serve and its full name for health checks, e.g.
// {&impl, forge::v1::RewardService::service_full_name()}.
struct ServedService {
  grpc::Service* service;
  std::string full_name;
};

// Builds and starts a server on `listen_address` ("HOST:PORT", port 0 = any free port) with the
// given services, the standard health service (SERVING for "" and for each service's full name) and
// server reflection, under `options.security`. The services must outlive the server. Fails with a
// message naming the address when the address cannot be bound, or FailedPrecondition when a
// non-loopback address has neither TLS nor a token nor `insecure` (check_exposure).
absl::StatusOr<RunningServer> start_server(const std::string& listen_address,
                                           const std::vector<ServedService>& services,
                                           const ServerOptions& options = {});

// A channel with Forge's message-size limits and the process's client settings
// (client_security()): TLS and the bearer token when the process has them. Calls are spread over
// every address the target resolves to, round robin (a dns:/// name of a headless Service, or a
// multi-address "ipv4:a:p1,b:p2" target).
std::shared_ptr<grpc::Channel> make_channel(const std::string& address,
                                            const ServerOptions& options = {});
// The same with explicit client settings (tests acting as another client).
std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const Security& security,
                                            const ServerOptions& options = {});

// The single-server targets behind `target`: each address of a multi-address "ipv4:" / "ipv6:"
// target, or each address a "dns:" name resolves to now ("ipv4:10.0.0.7:50051"); any other target
// (one host:port, unix:PATH, a name that does not resolve) is itself. For what must reach every
// server, such as a weight update.
std::vector<std::string> expand_target(const std::string& target);

// One grpc.health.v1.Health/Check call; OK only when the answer is SERVING.
absl::Status check_health(const std::string& address, std::chrono::milliseconds timeout,
                          const std::string& service = "");

// Polls check_health until SERVING or `timeout` passes; the error says what the last probe saw.
absl::Status wait_until_healthy(const std::string& address, std::chrono::milliseconds timeout,
                                const std::string& service = "");

}  // namespace forge::net
