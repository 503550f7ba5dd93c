// The run config's server section as a process's authentication settings (proto/security.h): the
// token and PEM files read from server.auth_token_file and server.tls.{cert,key,client_ca}. Errors
// (InvalidArgument) name the key: "server.tls.key: cannot read 'x.key'", "server.tls.key: needed
// with server.tls.cert". Thread-safety: a function.
#pragma once

#include "absl/status/statusor.h"
#include "proto/security.h"
#include "rl/config/run_config.h"

namespace forge::rl {

// `insecure`: the --insecure flag (a non-loopback address may be served with neither).
absl::StatusOr<net::Security> load_security(const ServerSection& server, bool insecure);

}  // namespace forge::rl
