// Who may call a Forge process's gRPC servers, and how its own clients prove who they are: the
// settings of server.auth_token_file and server.tls.{cert,key,client_ca}, already read from their
// files (rl/config/server_security.h loads them). No gRPC here: credentials.h turns them into
// gRPC credentials.
//
// Rules every server follows (net::start_server):
//   * a loopback address (127.0.0.0/8, localhost, [::1], unix:PATH) may be served without either;
//     any other address needs TLS and/or a token, or `insecure` (the CLI's --insecure, with a
//     warning);
//   * with a token, every RPC except grpc.health.v1.Health (probes stay open) must carry
//     `authorization: Bearer <token>`: none is UNAUTHENTICATED, a wrong one PERMISSION_DENIED;
//   * with a client CA, a client must present a certificate the CA signed (mutual TLS): any other
//     fails the handshake.
// Forge's own clients (rollout pool, reward client, the trainer's probes, forge top) use the
// process's client settings (set_client_security): the token, and with TLS the CA to verify
// servers (client_ca, else the system's roots) and the certificate and key as their own.
// Thread-safety: plain values; set_client_security/client_security are thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace forge::net {

struct Security {
  std::string token;          // bearer token; "" = none
  std::string cert_pem;       // TLS certificate chain; "" = plaintext
  std::string key_pem;        // its private key
  std::string client_ca_pem;  // mutual TLS: the CA client certificates must chain to
  bool insecure = false;      // may serve a non-loopback address with neither TLS nor a token

  bool tls() const { return !cert_pem.empty(); }
  bool authenticates() const { return tls() || !token.empty(); }
};

// 127.0.0.0/8, "localhost", [::1] (with a port), or a Unix socket "unix:PATH".
bool is_loopback(const std::string& address);

// OK when `address` may be served under `security` (see the rules above); else
// FailedPrecondition naming the address and the keys that would allow it.
absl::Status check_exposure(const std::string& address, const Security& security);

// The settings of every channel net::make_channel builds from now on (default: none). Set once,
// at the start of a command, before its first channel.
void set_client_security(const Security& security);
Security client_security();

}  // namespace forge::net
