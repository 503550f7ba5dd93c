#include "rl/service/metrics_endpoint.h"

#include "absl/strings/str_cat.h"

namespace forge::rl {

absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> serve_metrics(
    const std::string& address, const net::Security& security,
    const telemetry::Registry& registry) {
  if (address.empty()) return std::unique_ptr<telemetry::MetricsServer>();
  if (!net::is_loopback(address) && security.token.empty() && !security.insecure) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server.metrics_address: serving metrics on '", address,
        "' (not loopback) needs server.auth_token_file (the scraper sends the token) or "
        "--insecure"));
  }
  absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> server =
      telemetry::MetricsServer::start(address, registry, security.token);
  if (!server.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.metrics_address: ", server.status().message()));
  }
  return server;
}

}  // namespace forge::rl
