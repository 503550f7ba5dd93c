#include "rl/cli/server_flags.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "rl/config/server_security.h"
#include "rl/service/metrics_endpoint.h"

namespace forge::rl::cli {

void add_server_flags(CLI::App* app, ServerFlags& flags) {
  app->add_option("--metrics-listen", flags.metrics_listen,
                  "HOST:PORT serving Prometheus metrics on /metrics (server.metrics_address)");
  app->add_flag("--insecure", flags.insecure,
                "Allow a non-loopback address with neither TLS nor a token (anyone may call)");
}

absl::StatusOr<net::Security> setup_serving(const std::string& name, const ServerFlags& flags,
                                            RunConfig& config,
                                            const std::vector<std::string>& listen_addresses) {
  if (!flags.metrics_listen.empty()) config.server.metrics_address = flags.metrics_listen;
  absl::StatusOr<net::Security> security = load_security(config.server, flags.insecure);
  if (!security.ok()) return security.status();
  net::set_client_security(*security);
  for (const std::string& address : listen_addresses) {
    if (address.empty()) continue;
    absl::Status exposure = net::check_exposure(address, *security);
    if (!exposure.ok()) return absl::InvalidArgumentError(exposure.message());
  }
  std::vector<std::string> addresses = listen_addresses;
  addresses.push_back(config.server.metrics_address);
  for (const std::string& address : addresses) {
    if (address.empty() || net::is_loopback(address)) continue;
    const bool metrics = address == config.server.metrics_address;
    const bool open = metrics ? security->token.empty() : !security->authenticates();
    if (open && flags.insecure) {
      std::cerr << "forge " << name << ": warning: --insecure: " << address
                << " is served with no authentication; anyone who reaches it can "
                << (metrics ? "read this process's metrics"
                            : "call every RPC (weight updates and control included)")
                << std::endl;
    }
  }
  return security;
}

absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> start_metrics(
    const std::string& name, const RunConfig& config, const net::Security& security,
    const telemetry::Registry& registry) {
  const std::string& address = config.server.metrics_address;
  absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> server =
      serve_metrics(address, security, registry);
  if (server.ok() && *server != nullptr) {
    std::cout << "forge " << name << ": metrics on http://" << address.substr(0, address.rfind(':'))
              << ":" << (*server)->port() << "/metrics" << std::endl;
  }
  return server;
}

}  // namespace forge::rl::cli
