#include "proto/grpc_util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proto/credentials.h"

namespace forge::net {

grpc::Status to_grpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbering (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status from_grpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<RunningServer> start_server(const std::string& listen_address,
                                           const std::vector<ServedService>& services,
                                           const ServerOptions& options) {
  if (absl::Status exposure = check_exposure(listen_address, options.security); !exposure.ok()) {
    return exposure;
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  RunningServer running;
  builder.AddListeningPort(listen_address, server_credentials(options.security), &running.port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  // Without this, Linux lets a second server bind the same port and steal half the connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (const ServedService& s : services) builder.RegisterService(s.service);
  running.server = builder.BuildAndStart();
  if (!running.server || running.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", listen_address, "' (address in use or invalid)"));
  }
  grpc::HealthCheckServiceInterface* health = running.server->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus("", true);
    for (const ServedService& s : services) health->SetServingStatus(s.full_name, true);
  }
  return running;
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address,
                                            const ServerOptions& options) {
  return make_channel(address, client_security(), options);
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const Security& security,
                                            const ServerOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  args.SetServiceConfigJSON(R"({"loadBalancingConfig": [{"round_robin": {}}]})");
  return secure_channel(address, args, security);
}

std::vector<std::string> expand_target(const std::string& target) {
  for (const char* scheme : {"ipv4:", "ipv6:"}) {
    if (!absl::StartsWith(target, scheme)) continue;
    std::vector<std::string> out;
    for (absl::string_view part : absl::StrSplit(target.substr(5), ',', absl::SkipEmpty())) {
      out.push_back(absl::StrCat(scheme, part));
    }
    return out;
  }
  if (!absl::StartsWith(target, "dns:")) return {target};
  // dns:[//authority/]host:port
  std::string name = target.substr(4);
  if (absl::StartsWith(name, "//")) {
    const size_t slash = name.find('/', 2);
    if (slash == std::string::npos) return {target};
    name = name.substr(slash + 1);
  }
  const size_t colon = name.rfind(':');
  if (colon == std::string::npos) return {target};
  const std::string host = name.substr(0, colon), port = name.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return {target};
  std::vector<std::string> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char ip[INET6_ADDRSTRLEN] = {};
    std::string address;
    if (a->ai_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, ip, sizeof ip);
      address = absl::StrCat("ipv4:", ip, ":", port);
    } else if (a->ai_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, ip, sizeof ip);
      address = absl::StrCat("ipv6:[", ip, "]:", port);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
  }
  ::freeaddrinfo(found);
  return out.empty() ? std::vector<std::string>{target} : out;
}

absl::Status check_health(const std::string& address, std::chrono::milliseconds timeout,
                          const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(make_channel(address));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  absl::Status status = from_grpc(stub->Check(&context, request, &response));
  if (!status.ok()) return status;
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError(
        absl::StrCat(address, " is not serving (health status ", response.status(), ")"));
  }
  return absl::OkStatus();
}

absl::Status wait_until_healthy(const std::string& address, std::chrono::milliseconds timeout,
                                const std::string& service) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  absl::Status last = absl::UnavailableError("no probe ran");
  while (std::chrono::steady_clock::now() < deadline) {
    last = check_health(address, std::chrono::milliseconds(500), service);
    if (last.ok()) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(address, " did not become healthy within ", timeout.count(), " ms: ",
                   last.message()));
}

}  // namespace forge::net
