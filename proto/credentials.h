// gRPC credentials from net::Security (security.h): the server side (TLS or plaintext, plus a
// bearer-token check on every call but health) and the client side (TLS with the process's
// certificate, plus the token on every call). Used by grpc_util's start_server / make_channel.
// Thread-safety: functions.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "proto/security.h"

namespace forge::net {

std::shared_ptr<grpc::ServerCredentials> server_credentials(const Security& security);

std::shared_ptr<grpc::Channel> secure_channel(const std::string& address,
                                              const grpc::ChannelArguments& args,
                                              const Security& security);

}  // namespace forge::net
