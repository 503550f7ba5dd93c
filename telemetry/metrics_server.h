// The Prometheus scrape endpoint of a Forge server (`--metrics-listen HOST:PORT`,
// server.metrics_address): HTTP/1.1 over Boost.Beast on one Asio thread. GET (or HEAD) /metrics
// answers a Registry's render() as text/plain; version=0.0.4; any other path is 404, any other
// method 405. With a bearer token set, /metrics needs `Authorization: Bearer <token>` (Prometheus's
// `authorization: {credentials_file: ...}`): none is 401, a wrong one 403. Connections are kept
// alive and closed after 30 s idle; a request over 64 KiB is refused.
// Thread-safety: start() and the destructor from one thread; the registry must outlive the server.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "telemetry/registry.h"

namespace forge::telemetry {

class MetricsServer {
 public:
  // Listens on `address` ("HOST:PORT", port 0 = any free port; HOST may be a name, an IPv4
  // address or a bracketed IPv6 one). The error names the address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> start(const std::string& address,
                                                              const Registry& registry,
                                                              const std::string& bearer_token = "");
  ~MetricsServer();  // stops accepting, closes connections, joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace forge::telemetry
