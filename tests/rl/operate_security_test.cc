// Operating a run whose servers are exposed: TLS, mutual TLS and a bearer token on every server
// (certificates made by openssl here), a run that refuses strangers and still trains; and the
// non-loopback rule of the serving commands.
#include "tests/common/test_pki.h"
#include "tests/rl/operate_fixture.h"

namespace {

using namespace forge::test_support::operate;  // NOLINT: the fixture's helpers
using forge::test_support::processes_with;
using forge::test_support::read_jsonl;

class OperateSecurityTest : public OperateTest {};

TEST_F(OperateSecurityTest, ARunWithMutualTlsAndATokenRefusesStrangersAndTrains) {
  const fs::path pki_dir = dir_ / "pki";
  fs::create_directories(pki_dir);
  const auto pki = forge::test_support::make_test_pki(pki_dir.string());
  ASSERT_TRUE(pki.error.empty()) << pki.error;
  std::ofstream(pki_dir / "token") << "op-token-123\n";
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  auto run = start_run("secured", {"server.trainer_address=" + address,
                                   "server.auth_token_file=" + (pki_dir / "token").string(),
                                   "server.tls.cert=" + pki.cert, "server.tls.key=" + pki.key,
                                   "server.tls.client_ca=" + pki.ca});
  // Forge's own children (reward server, rollout worker) serve with the same settings and the
  // trainer's clients use them: steps happen.
  ASSERT_TRUE(eventually([&] { return steps_of("secured") >= 2; }, seconds(120))) << run->output();

  forge::net::Security own;
  own.token = "op-token-123";
  own.cert_pem = forge::test_support::read_text(pki.cert);
  own.key_pem = forge::test_support::read_text(pki.key);
  own.client_ca_pem = forge::test_support::read_text(pki.ca);
  forge::v1::TrainerStatus status;
  grpc::Status s = get_status(*trainer(address, own), &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GE(status.step(), 2);

  forge::net::Security no_token = own;
  no_token.token = "";
  EXPECT_EQ(get_status(*trainer(address, no_token), &status).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  forge::net::Security wrong_token = own;
  wrong_token.token = "guess";
  EXPECT_EQ(get_status(*trainer(address, wrong_token), &status).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  forge::net::Security stranger = own;  // a certificate from another CA: no handshake
  stranger.cert_pem = forge::test_support::read_text(pki.other_cert);
  stranger.key_pem = forge::test_support::read_text(pki.other_key);
  EXPECT_EQ(get_status(*trainer(address, stranger), &status).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  forge::net::Security plaintext;
  plaintext.token = "op-token-123";
  EXPECT_EQ(get_status(*trainer(address, plaintext), &status).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The children are secured too: the rollout worker refuses a call without the token.
  const std::string worker_socket =
      "unix:" + (dir_ / "secured" / "logs" / "rollout-worker-0.sock").string();
  forge::v1::StopResponse stopped;
  EXPECT_EQ((call<forge::v1::StopRequest>(&forge::v1::TrainerService::Stub::Stop,
                                          *trainer(worker_socket, no_token), &stopped))
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  ASSERT_TRUE((call<forge::v1::StopRequest>(&forge::v1::TrainerService::Stub::Stop,
                                            *trainer(address, own), &stopped))
                  .ok());
  EXPECT_EQ(run->wait(seconds(120)), 130) << run->output();
  EXPECT_TRUE(processes_with((dir_ / "secured").string()).empty());
}

TEST_F(OperateSecurityTest, ServingANonLoopbackAddressNeedsAuthenticationOrInsecure) {
  auto refused =
      forge::test_support::run_forge("rollout-worker --listen 0.0.0.0:0 --config " + config());
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--insecure"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("server.auth_token_file"), std::string::npos) << refused.output;
  auto metrics = forge::test_support::run_forge("reward-server --listen 127.0.0.1:0 --config " +
                                                config() + " --metrics-listen 0.0.0.0:0");
  EXPECT_EQ(metrics.exit_code, 2) << metrics.output;
  EXPECT_NE(metrics.output.find("server.metrics_address"), std::string::npos) << metrics.output;

  Child open(FORGE_BINARY,
             {"reward-server", "--listen", "0.0.0.0:0", "--config", config(), "--insecure"},
             dir_ / "insecure.log");
  ASSERT_TRUE(eventually([&] { return open.output().find("listening on") != std::string::npos; },
                         seconds(30)))
      << open.output();
  EXPECT_NE(open.output().find("warning: --insecure: 0.0.0.0:0 is served with no authentication"),
            std::string::npos)
      << open.output();
  open.signal(SIGTERM);
  EXPECT_EQ(open.wait(seconds(30)), 0) << open.output();
}

}  // namespace
