#include "proto/credentials.h"

#include <grpc/grpc_security.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/client_interceptor.h>

#include "absl/strings/match.h"

namespace forge::net {
namespace {

constexpr const char* kHealthPrefix = "/grpc.health.v1.Health/";

std::string slice_text(const grpc_slice& slice) {
  return std::string(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slice)),
                     GRPC_SLICE_LENGTH(slice));
}

// Constant-time: how much of a token matched must not show in the answer's timing.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ (i < b.size() ? b[i] : 0);
  return diff == 0;
}

// gRPC core's auth metadata processor: runs on every call before its handler, with the call's
// metadata (":path" included). `state` is the expected "Bearer <token>" header value.
void check_bearer(void* state, grpc_auth_context*, const grpc_metadata* md, size_t num_md,
                  grpc_process_auth_metadata_done_cb done, void* user_data) {
  const std::string& expected = *static_cast<const std::string*>(state);
  const std::string* presented = nullptr;
  std::string path;
  std::string authorization;
  for (size_t i = 0; i < num_md; ++i) {
    const std::string key = slice_text(md[i].key);
    if (key == ":path") path = slice_text(md[i].value);
    if (key == "authorization") {
      authorization = slice_text(md[i].value);
      presented = &authorization;
    }
  }
  if (absl::StartsWith(path, kHealthPrefix)) {
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
  } else if (presented == nullptr) {
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED,
         "this server needs 'authorization: Bearer <token>' (server.auth_token_file)");
  } else if (!same_secret(*presented, expected)) {
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_PERMISSION_DENIED, "wrong bearer token");
  } else {
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
  }
}

// The C++ InsecureServerCredentials refuses an auth metadata processor, but gRPC core runs one on
// plaintext ports too: this builds the core credentials itself (plaintext or TLS) and attaches
// the token check, so both kinds of port share one check.
class ForgeServerCredentials final : public grpc::ServerCredentials {
 public:
  explicit ForgeServerCredentials(Security security) : security_(std::move(security)) {}

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& address, grpc_server* server) override {
    grpc_server_credentials* creds = nullptr;
    if (security_.tls()) {
      grpc_ssl_pem_key_cert_pair pair{security_.key_pem.c_str(), security_.cert_pem.c_str()};
      const bool mutual = !security_.client_ca_pem.empty();
      creds = grpc_ssl_server_credentials_create_ex(
          mutual ? security_.client_ca_pem.c_str() : nullptr, &pair, 1,
          mutual ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
          nullptr);
    } else {
      creds = grpc_insecure_server_credentials_create();
    }
    if (creds == nullptr) return 0;
    if (!security_.token.empty()) {
      grpc_auth_metadata_processor processor;
      processor.process = check_bearer;
      processor.destroy = [](void* state) { delete static_cast<std::string*>(state); };
      processor.state = new std::string("Bearer " + security_.token);
      grpc_server_credentials_set_auth_metadata_processor(creds, processor);
    }
    const int port = grpc_server_add_http2_port(server, address.c_str(), creds);
    grpc_server_credentials_release(creds);
    return port;
  }

  const Security security_;
};

class BearerInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(const std::string& value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", value_});
    }
    methods->Proceed();
  }

 private:
  const std::string& value_;
};

class BearerInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::string token) : value_("Bearer " + std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(value_);
  }

 private:
  const std::string value_;  // outlives every call: the channel owns the factory
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> server_credentials(const Security& security) {
  return std::make_shared<ForgeServerCredentials>(security);
}

std::shared_ptr<grpc::Channel> secure_channel(const std::string& address,
                                              const grpc::ChannelArguments& args,
                                              const Security& security) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (security.tls()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = security.client_ca_pem;  // "" = the system's roots
    ssl.pem_private_key = security.key_pem;
    ssl.pem_cert_chain = security.cert_pem;
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  if (security.token.empty()) return grpc::CreateCustomChannel(address, creds, args);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<BearerInterceptorFactory>(security.token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, creds, args,
                                                                 std::move(factories));
}

}  // namespace forge::net
