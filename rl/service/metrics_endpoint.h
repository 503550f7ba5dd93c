// Serves a registry on server.metrics_address for any Forge process (trainer, rollout worker,
// reward server), under the exposure rule: a non-loopback address needs the bearer token
// (server.auth_token_file; Prometheus sends it with `authorization: {credentials_file: ...}`) or
// --insecure, since /metrics speaks plain HTTP. Thread-safety: a function.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/security.h"
#include "telemetry/metrics_server.h"

namespace forge::rl {

// nullptr when `address` is "". Errors (InvalidArgument) name server.metrics_address.
absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> serve_metrics(
    const std::string& address, const net::Security& security, const telemetry::Registry& registry);

// The override that keeps the children `forge run` and `forge distill` start from serving the
// parent's server.metrics_address (they read the same config).
inline constexpr const char* kNoChildMetrics = "server.metrics_address=''";

}  // namespace forge::rl
