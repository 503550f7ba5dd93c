// Authentication on a real server on loopback: the bearer token (none -> UNAUTHENTICATED, wrong ->
// PERMISSION_DENIED, health open), mutual TLS with certificates made by openssl at test time (a
// client certificate from another CA fails the handshake), and the loopback rule.
#include "proto/security.h"

#include <gtest/gtest.h>

#include "forge/v1/trainer.grpc.pb.h"
#include "proto/grpc_util.h"
#include "tests/common/temp_dir.h"
#include "tests/common/test_pki.h"

namespace forge::net {
namespace {

using test_support::read_text;

// Answers GetStatus with step 7 once a call gets past authentication.
class Trainer final : public forge::v1::TrainerService::Service {
  grpc::Status GetStatus(grpc::ServerContext*, const forge::v1::GetStatusRequest*,
                         forge::v1::TrainerStatus* out) override {
    out->set_step(7);
    return grpc::Status::OK;
  }
};

grpc::Status get_status(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = forge::v1::TrainerService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  forge::v1::TrainerStatus status;
  grpc::Status s = stub->GetStatus(&context, forge::v1::GetStatusRequest(), &status);
  if (s.ok()) EXPECT_EQ(status.step(), 7);
  return s;
}

RunningServer serve(Trainer& trainer, const Security& security,
                    const std::string& address = "127.0.0.1:0") {
  ServerOptions options;
  options.security = security;
  auto running =
      start_server(address, {{&trainer, forge::v1::TrainerService::service_full_name()}}, options);
  EXPECT_TRUE(running.ok()) << running.status();
  return running.ok() ? std::move(running).value() : RunningServer{};
}

TEST(Security, LoopbackAddresses) {
  EXPECT_TRUE(is_loopback("127.0.0.1:5000"));
  EXPECT_TRUE(is_loopback("127.3.4.5:0"));
  EXPECT_TRUE(is_loopback("localhost:80"));
  EXPECT_TRUE(is_loopback("[::1]:80"));
  EXPECT_TRUE(is_loopback("unix:/tmp/x.sock"));
  EXPECT_FALSE(is_loopback("0.0.0.0:5000"));
  EXPECT_FALSE(is_loopback("[::]:5000"));
  EXPECT_FALSE(is_loopback("10.1.2.3:5000"));
  EXPECT_FALSE(is_loopback("worker-3:5000"));
}

TEST(Security, ANonLoopbackAddressNeedsTlsOrATokenOrInsecure) {
  Trainer trainer;
  ServerOptions plain;
  auto refused = start_server("0.0.0.0:0", {{&trainer, "forge.v1.TrainerService"}}, plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("--insecure"), std::string::npos);
  EXPECT_NE(refused.status().message().find("server.auth_token_file"), std::string::npos);
  Security token;
  token.token = "t";
  EXPECT_TRUE(check_exposure("0.0.0.0:1", token).ok());
  Security insecure;
  insecure.insecure = true;
  EXPECT_TRUE(check_exposure("0.0.0.0:1", insecure).ok());
}

TEST(Security, TokenIsCheckedOnEveryCallButHealth) {
  Trainer trainer;
  Security server;
  server.token = "s3cret-token";
  RunningServer running = serve(trainer, server);
  const std::string address = "127.0.0.1:" + std::to_string(running.port);

  EXPECT_EQ(get_status(make_channel(address, Security{})).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  Security wrong;
  wrong.token = "s3cret-tokeN";
  EXPECT_EQ(get_status(make_channel(address, wrong)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  Security right;
  right.token = "s3cret-token";
  EXPECT_TRUE(get_status(make_channel(address, right)).ok());
  // Probes need no token.
  set_client_security(Security{});
  EXPECT_TRUE(check_health(address, std::chrono::seconds(5)).ok());
}

TEST(Security, MutualTlsRefusesACertificateFromAnotherCa) {
  test_support::TempDir dir("forge_security");
  const test_support::TestPki pki = test_support::make_test_pki(dir.path().string());
  ASSERT_TRUE(pki.error.empty()) << pki.error;
  Security server;
  server.cert_pem = read_text(pki.cert);
  server.key_pem = read_text(pki.key);
  server.client_ca_pem = read_text(pki.ca);
  server.token = "tok";
  Trainer trainer;
  RunningServer running = serve(trainer, server);
  const std::string address = "127.0.0.1:" + std::to_string(running.port);

  // Forge's own client settings: the same certificate, CA and token.
  EXPECT_TRUE(get_status(make_channel(address, server)).ok());
  EXPECT_TRUE(get_status(make_channel("localhost:" + std::to_string(running.port), server)).ok());

  // A client whose certificate another CA signed: the handshake fails (no call gets through).
  Security stranger = server;
  stranger.cert_pem = read_text(pki.other_cert);
  stranger.key_pem = read_text(pki.other_key);
  grpc::Status s = get_status(make_channel(address, stranger));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();

  // A plaintext client cannot talk to a TLS port at all.
  Security plaintext;
  plaintext.token = "tok";
  EXPECT_EQ(get_status(make_channel(address, plaintext)).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // A client that trusts another CA refuses the server.
  Security distrustful = server;
  distrustful.client_ca_pem = read_text(pki.other_ca);
  EXPECT_EQ(get_status(make_channel(address, distrustful)).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // The right certificate without the token: TLS passes, the token check does not.
  Security no_token = server;
  no_token.token = "";
  EXPECT_EQ(get_status(make_channel(address, no_token)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace forge::net
