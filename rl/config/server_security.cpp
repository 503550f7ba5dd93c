#include "rl/config/server_security.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/file_util.h"

namespace forge::rl {
namespace {

absl::StatusOr<std::string> read_key_file(const char* key, const std::string& path) {
  absl::StatusOr<std::string> text = read_file(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.", key, ": cannot read '", path, "': ", text.status().message()));
  }
  return text;
}

}  // namespace

absl::StatusOr<net::Security> load_security(const ServerSection& server, bool insecure) {
  net::Security security;
  security.insecure = insecure;
  if (!server.auth_token_file.empty()) {
    absl::StatusOr<std::string> token = read_key_file("auth_token_file", server.auth_token_file);
    if (!token.ok()) return token.status();
    security.token = std::string(absl::StripAsciiWhitespace(*token));
    if (security.token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("server.auth_token_file: '", server.auth_token_file, "' holds no token"));
    }
    if (security.token.find_first_of(" \t\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "server.auth_token_file: '", server.auth_token_file, "': the token has whitespace"));
    }
  }
  const ServerTlsSection& tls = server.tls;
  if (tls.cert.empty() != tls.key.empty()) {
    return absl::InvalidArgumentError(tls.cert.empty()
                                          ? "server.tls.cert: needed with server.tls.key"
                                          : "server.tls.key: needed with server.tls.cert");
  }
  if (!tls.client_ca.empty() && tls.cert.empty()) {
    return absl::InvalidArgumentError(
        "server.tls.client_ca: needs server.tls.cert and server.tls.key (mutual TLS is TLS)");
  }
  if (!tls.cert.empty()) {
    absl::StatusOr<std::string> cert = read_key_file("tls.cert", tls.cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = read_key_file("tls.key", tls.key);
    if (!key.ok()) return key.status();
    security.cert_pem = *std::move(cert);
    security.key_pem = *std::move(key);
  }
  if (!tls.client_ca.empty()) {
    absl::StatusOr<std::string> ca = read_key_file("tls.client_ca", tls.client_ca);
    if (!ca.ok()) return ca.status();
    security.client_ca_pem = *std::move(ca);
  }
  return security;
}

}  // namespace forge::rl
