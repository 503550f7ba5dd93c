// What the serving subcommands (`forge run`, `forge rollout-worker`, `forge reward-server`) share
// about how they serve: the --metrics-listen and --insecure flags, the process's authentication
// settings from the config's server section (also used by the process's own clients), and the
// Prometheus /metrics endpoint.
//   * --metrics-listen HOST:PORT overrides server.metrics_address;
//   * a non-loopback /metrics address needs server.auth_token_file (Prometheus then sends the
//     token) or --insecure: the endpoint speaks plain HTTP, never TLS;
//   * --insecure prints a warning for every non-loopback address it lets through.
// Thread-safety: functions, called from a command's main thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/security.h"
#include "rl/config/run_config.h"
#include "telemetry/metrics_server.h"

namespace CLI {
class App;
}

namespace forge::rl::cli {

struct ServerFlags {
  std::string metrics_listen;  // "" = server.metrics_address
  bool insecure = false;
};

// Declares --metrics-listen and --insecure on `app`, filling `flags`.
void add_server_flags(CLI::App* app, ServerFlags& flags);

// Applies --metrics-listen to `config`, loads the server section's security, refuses a
// non-loopback listen address it does not cover (net::check_exposure), makes it the process's
// client settings, and warns (stderr, "forge <name>: ...") about each of
// `listen_addresses` that --insecure opens to anyone. Errors name the key.
absl::StatusOr<net::Security> setup_serving(const std::string& name, const ServerFlags& flags,
                                            RunConfig& config,
                                            const std::vector<std::string>& listen_addresses);

// Serves `registry` on config.server.metrics_address (nullptr when it is ""; the exposure rule of
// rl/service/metrics_endpoint.h) and prints where. Errors name server.metrics_address.
absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> start_metrics(
    const std::string& name, const RunConfig& config, const net::Security& security,
    const telemetry::Registry& registry);

}  // namespace forge::rl::cli
