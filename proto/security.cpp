#include "proto/security.h"

#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace forge::net {
namespace {

std::mutex client_mu;
Security& client_settings() {
  static Security* settings = new Security();
  return *settings;
}

}  // namespace

bool is_loopback(const std::string& address) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  std::string host = address;
  if (absl::StartsWith(host, "ipv4:") || absl::StartsWith(host, "ipv6:")) host = host.substr(5);
  if (absl::StartsWith(host, "[")) {
    const size_t close = host.find(']');
    return close != std::string::npos && host.substr(1, close - 1) == "::1";
  }
  host = host.substr(0, host.rfind(':'));
  return host == "localhost" || absl::StartsWith(host, "127.");
}

absl::Status check_exposure(const std::string& address, const Security& security) {
  if (is_loopback(address) || security.authenticates() || security.insecure) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "listening on '", address,
      "' (not loopback) needs TLS (server.tls.cert and server.tls.key) and/or a bearer token "
      "(server.auth_token_file), or --insecure to serve it to anyone"));
}

void set_client_security(const Security& security) {
  std::lock_guard<std::mutex> lock(client_mu);
  client_settings() = security;
}

Security client_security() {
  std::lock_guard<std::mutex> lock(client_mu);
  return client_settings();
}

}  // namespace forge::net
