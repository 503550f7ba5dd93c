// Operating a real `forge run` on loopback, as an operator would: the control RPCs (pause, save,
// resume, stop) with the trainer's /metrics and `forge top` in a real pseudo-terminal (tmux)
// watching it; the same control of a run of two ranks, paused longer than dist.timeout_s and
// saved while paused; a real Prometheus server (Debian's `prometheus`) scraping a run and a rollout
// worker, read back through its HTTP API; a run with TLS, mutual TLS and a bearer token on every
// server (certificates made by openssl here) that refuses strangers and still trains; and the
// non-loopback rule of the serving commands.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/v1/trainer.grpc.pb.h"
#include "proto/grpc_util.h"
#include "tests/common/forge_command.h"
#include "tests/common/http_get.h"
#include "tests/common/small_model_yaml.h"
#include "tests/common/test_pki.h"

namespace {

namespace fs = std::filesystem;
using forge::test_support::http_get;
using forge::test_support::processes_with;
using forge::test_support::read_jsonl;
using forge::test_support::sample_value;
using forge::test_support::small_model_yaml;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A free TCP port on 127.0.0.1 (the kernel's pick; released for the child to bind).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A child process (`program ARGS...`, output to `log`), killed and reaped when the object goes.
class Child {
 public:
  Child(const std::string& program, const std::vector<std::string>& args, const fs::path& log)
      : log_(log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv = {const_cast<char*>(program.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execvp(program.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // The exit code (128 + signal when killed), or -1 when it is still running after `timeout`.
  int wait(seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {  // looks at least once: wait(seconds(0)) says whether it is still running
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  std::string output() const { return forge::read_file(log_.string()).value_or(""); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

template <typename Predicate>
bool eventually(Predicate predicate, seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return predicate();
}

class OperateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("forge_operate_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto gen = forge::test_support::run_forge("data gen --task arithmetic --n 64 --seed 1 --out " +
                                              (dir_ / "train.jsonl").string());
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    // The small MoE of the run tests: a step takes a fraction of a second.
    std::ofstream(dir_ / "run.yaml")
        << small_model_yaml() << "data: {train: train.jsonl}\n"
        << "rollout: {workers: 1, n: 4, max_new_tokens: 24}\n"
        << "trainer: {total_steps: 100000, batch_size: 4, lr: 1.0e-3, micro_batch_size: 8}\n";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string config() { return (dir_ / "run.yaml").string(); }

  // `forge run` for (practically) ever with `extra` arguments, in run.dir dir_/NAME.
  static std::unique_ptr<Child> start_run(const std::string& name,
                                          const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", config(), "run.dir=" + (dir_ / name).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Child>(FORGE_BINARY, args, dir_ / (name + ".log"));
  }

  static size_t steps_of(const std::string& name) {
    return read_jsonl(dir_ / name / "metrics.jsonl").size();
  }

  static fs::path dir_;
};
fs::path OperateTest::dir_;

std::unique_ptr<forge::v1::TrainerService::Stub> trainer(
    const std::string& address, const forge::net::Security& security = {}) {
  return forge::v1::TrainerService::NewStub(forge::net::make_channel(address, security));
}

grpc::Status get_status(forge::v1::TrainerService::Stub& stub, forge::v1::TrainerStatus* out) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  return stub.GetStatus(&context, forge::v1::GetStatusRequest(), out);
}

template <typename Request, typename Response, typename Call>
grpc::Status call(Call method, forge::v1::TrainerService::Stub& stub, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(60));
  return (stub.*method)(&context, Request(), response);
}

// Pauses the run behind `stub` and waits (up to 60 s) until its loop says so: its status then
// (state() is not "paused" when the pause failed or did not take).
forge::v1::TrainerStatus pause(forge::v1::TrainerService::Stub& stub) {
  forge::v1::PauseRolloutsResponse paused;
  forge::v1::TrainerStatus status;
  if (!call<forge::v1::PauseRolloutsRequest>(&forge::v1::TrainerService::Stub::PauseRollouts, stub,
                                             &paused)
           .ok()) {
    return status;
  }
  eventually([&] { return get_status(stub, &status).ok() && status.state() == "paused"; },
             seconds(60));
  return status;
}

TEST_F(OperateTest, PauseSaveResumeAndStopWhileMetricsAndForgeTopWatch) {
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  const int metrics_port = free_port();
  auto run = start_run("control", {"server.trainer_address=" + address, "--metrics-listen",
                                   "127.0.0.1:" + std::to_string(metrics_port)});
  ASSERT_TRUE(eventually([&] { return steps_of("control") >= 1; }, seconds(120))) << run->output();
  auto stub = trainer(address);

  const forge::v1::TrainerStatus status = pause(*stub);
  ASSERT_EQ(status.state(), "paused") << status.DebugString() << run->output();
  EXPECT_TRUE(status.paused());
  const int64_t step = status.step();
  std::this_thread::sleep_for(milliseconds(700));
  EXPECT_EQ(steps_of("control"), static_cast<size_t>(step)) << "no step runs while paused";

  forge::v1::SaveCheckpointResponse saved;
  grpc::Status s = call<forge::v1::SaveCheckpointRequest>(
      &forge::v1::TrainerService::Stub::SaveCheckpoint, *stub, &saved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(saved.step(), step);
  EXPECT_EQ(saved.path(),
            (dir_ / "control" / ("checkpoints/step-" + std::to_string(step))).string());
  EXPECT_TRUE(fs::exists(fs::path(saved.path()) / "manifest.json"));

  // The trainer's /metrics: the last metrics.jsonl line as gauges, the step as a counter.
  const auto scraped = http_get("127.0.0.1", metrics_port, "/metrics");
  ASSERT_EQ(scraped.status, 200) << scraped.error;
  const auto last = read_jsonl(dir_ / "control" / "metrics.jsonl").back();
  EXPECT_EQ(sample_value(scraped.body, "forge:trainer_steps_total"), step);
  EXPECT_DOUBLE_EQ(sample_value(scraped.body, "forge:reward_mean"),
                   last["reward/mean"].get<double>());
  EXPECT_DOUBLE_EQ(sample_value(scraped.body, "forge:time_rollout"),
                   last["time/rollout"].get<double>());
  EXPECT_EQ(sample_value(scraped.body, "forge:trainer_paused"), 1);
  EXPECT_EQ(sample_value(scraped.body, "forge:trainer_state{state=\"paused\"}"), 1);

  // forge top in a real pseudo-terminal: the screen shows the step and the reward.
  const std::string socket = "forge-top-" + std::to_string(::getpid());
  const std::string top = std::string(FORGE_BINARY) + " top " + address + " --interval 0.3";
  ASSERT_EQ(
      std::system(
          ("tmux -L " + socket + " new-session -d -s top -x 110 -y 30 '" + top + "'").c_str()),
      0);
  std::string screen;
  const std::string step_text = "step " + std::to_string(step) + "/100000";
  const bool shown = eventually(
      [&] {
        FILE* pipe = ::popen(("tmux -L " + socket + " capture-pane -p -t top 2>&1").c_str(), "r");
        screen.clear();
        char buffer[4096];
        size_t n;
        while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) screen.append(buffer, n);
        ::pclose(pipe);
        return screen.find(step_text) != std::string::npos &&
               screen.find("reward") != std::string::npos &&
               screen.find("state paused") != std::string::npos;
      },
      seconds(20));
  std::system(("tmux -L " + socket + " kill-server >/dev/null 2>&1").c_str());
  EXPECT_TRUE(shown) << screen;
  char reward_line[64];
  std::snprintf(reward_line, sizeof(reward_line), "reward    %8.3f",
                last["reward/mean"].get<double>());
  EXPECT_NE(screen.find(reward_line), std::string::npos) << screen;
  EXPECT_NE(screen.find("rollout"), std::string::npos) << screen;  // the worker table

  // Not on a terminal: plain text, no escape codes.
  auto plain = forge::test_support::run_forge("top " + address + " --once");
  EXPECT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find(step_text), std::string::npos) << plain.output;
  EXPECT_EQ(plain.output.find('\x1b'), std::string::npos);

  forge::v1::ResumeRolloutsResponse resumed;
  ASSERT_TRUE((call<forge::v1::ResumeRolloutsRequest>(
                   &forge::v1::TrainerService::Stub::ResumeRollouts, *stub, &resumed))
                  .ok());
  EXPECT_TRUE(
      eventually([&] { return steps_of("control") > static_cast<size_t>(step); }, seconds(60)));

  forge::v1::StopResponse stopped;
  ASSERT_TRUE(
      (call<forge::v1::StopRequest>(&forge::v1::TrainerService::Stub::Stop, *stub, &stopped)).ok());
  EXPECT_EQ(run->wait(seconds(120)), 130) << run->output();
  const size_t steps = steps_of("control");
  EXPECT_TRUE(fs::exists(dir_ / "control" / ("checkpoints/step-" + std::to_string(steps)) /
                         "manifest.json"))
      << steps;
  EXPECT_NE(run->output().find("stopped by TrainerService.Stop"), std::string::npos);
  EXPECT_TRUE(processes_with((dir_ / "control").string()).empty());
}

// Two ranks (`forge run --nproc 2`): rank 0 serves TrainerService, and every rank waits out a
// pause several times dist.timeout_s long together; a checkpoint asked for while paused is
// written by both (ZeRO-1 gathers the optimizer's shards), and the run trains on once resumed.
TEST_F(OperateTest, TwoRanksWaitOutAPauseLongerThanTheDistTimeoutAndSaveTogether) {
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  const fs::path out = dir_ / "ranks";
  Child run(FORGE_BINARY,
            {"run", "--nproc", "2", config(), "run.dir=" + out.string(), "rollout.workers=0",
             "reward.in_process=true", "dist.timeout_s=2", "dist.zero=1",
             "server.trainer_address=" + address},
            dir_ / "ranks.log");
  ASSERT_TRUE(eventually([&] { return steps_of("ranks") >= 1; }, seconds(120))) << run.output();
  auto stub = trainer(address);
  const forge::v1::TrainerStatus status = pause(*stub);
  ASSERT_EQ(status.state(), "paused") << status.DebugString() << run.output();
  const int64_t step = status.step();
  std::this_thread::sleep_for(seconds(3 * 2));  // three times dist.timeout_s
  ASSERT_EQ(run.wait(seconds(0)), -1) << "the run ended while paused:\n" << run.output();
  EXPECT_EQ(steps_of("ranks"), static_cast<size_t>(step)) << "no step runs while paused";

  forge::v1::SaveCheckpointResponse saved;
  const grpc::Status s = call<forge::v1::SaveCheckpointRequest>(
      &forge::v1::TrainerService::Stub::SaveCheckpoint, *stub, &saved);
  ASSERT_TRUE(s.ok()) << s.error_message() << run.output();
  EXPECT_EQ(saved.step(), step);
  EXPECT_TRUE(fs::exists(fs::path(saved.path()) / "manifest.json")) << saved.path();

  forge::v1::ResumeRolloutsResponse resumed;
  ASSERT_TRUE((call<forge::v1::ResumeRolloutsRequest>(
                   &forge::v1::TrainerService::Stub::ResumeRollouts, *stub, &resumed))
                  .ok());
  EXPECT_TRUE(eventually([&] { return steps_of("ranks") >= static_cast<size_t>(step) + 2; },
                         seconds(60)))
      << run.output();
  forge::v1::StopResponse stopped;
  ASSERT_TRUE(
      (call<forge::v1::StopRequest>(&forge::v1::TrainerService::Stub::Stop, *stub, &stopped)).ok());
  EXPECT_EQ(run.wait(seconds(120)), 130) << run.output();
  EXPECT_TRUE(processes_with(out.string()).empty());
}

TEST_F(OperateTest, PrometheusScrapesARunAndAWorker) {
  const std::string prometheus = "/usr/bin/prometheus";
  ASSERT_TRUE(fs::exists(prometheus)) << "Debian's prometheus is missing: run scripts/setup.sh";
  const int worker_port = free_port();
  const int worker_metrics = free_port();
  const int run_metrics = free_port();
  const int prometheus_port = free_port();
  Child worker(
      FORGE_BINARY,
      {"rollout-worker", "--listen", "127.0.0.1:" + std::to_string(worker_port), "--config",
       config(), "--metrics-listen", "127.0.0.1:" + std::to_string(worker_metrics)},
      dir_ / "worker.log");
  auto run =
      start_run("scraped", {"rollout.addresses=['127.0.0.1:" + std::to_string(worker_port) + "']",
                            "server.metrics_address=127.0.0.1:" + std::to_string(run_metrics)});
  std::ofstream(dir_ / "prometheus.yml")
      << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
      << "scrape_configs:\n"
      << "  - job_name: forge-run\n    static_configs: [{targets: ['127.0.0.1:" << run_metrics
      << "']}]\n"
      << "  - job_name: forge-worker\n    static_configs: [{targets: ['127.0.0.1:" << worker_metrics
      << "']}]\n";
  Child server(prometheus,
               {"--config.file=" + (dir_ / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
               dir_ / "prometheus.log");

  // One instant query through Prometheus's HTTP API: the value of `query`'s first series.
  auto query = [&](const std::string& q, std::string* raw) {
    const auto answer = http_get("127.0.0.1", prometheus_port, "/api/v1/query?query=" + q);
    *raw = answer.body;
    if (answer.status != 200) return -1.0;
    const auto j = nlohmann::json::parse(answer.body, nullptr, false);
    if (j.is_discarded() || j["data"]["result"].empty()) return -1.0;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  std::string raw;
  double steps = -1, tokens = -1;
  EXPECT_TRUE(eventually([&] { return (steps = query("forge:trainer_steps_total", &raw)) >= 1; },
                         seconds(120)))
      << raw << "\n"
      << run->output() << server.output();
  EXPECT_TRUE(eventually(
      [&] {
        return (tokens = query("forge:generation_tokens_total{job=\"forge-worker\"}", &raw)) > 0;
      },
      seconds(60)))
      << raw << "\n"
      << worker.output();
  const double reward = query("forge:reward_mean{job=\"forge-run\"}", &raw);
  EXPECT_GE(reward, 0) << raw;
  std::cout << "[ scrape   ] Prometheus read forge:trainer_steps_total " << steps
            << ", forge:generation_tokens_total " << tokens << ", forge:reward_mean " << reward
            << std::endl;
  // Every query of the Grafana dashboard is valid PromQL, and the trainer's and workers' panels
  // have data.
  const auto dashboard = nlohmann::json::parse(
      forge::read_file(std::string(FORGE_SOURCE_DIR) + "/examples/grafana/forge.json")
          .value_or(""));
  int queries = 0;
  for (const auto& panel : dashboard["panels"]) {
    if (!panel.contains("targets")) continue;
    for (const auto& target : panel["targets"]) {
      std::string expr = target["expr"].get<std::string>();
      for (const auto& [var, job] : {std::pair<std::string, std::string>{"$trainer", "forge-run"},
                                     {"$worker", "forge-worker"},
                                     {"$reward", "forge-reward"}}) {
        for (size_t at; (at = expr.find(var)) != std::string::npos;)
          expr.replace(at, var.size(), job);
      }
      std::string encoded;
      for (unsigned char c : expr) {
        char hex[4];
        std::snprintf(hex, sizeof(hex), "%%%02X", c);
        encoded += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(hex);
      }
      const auto answer = http_get("127.0.0.1", prometheus_port, "/api/v1/query?query=" + encoded);
      EXPECT_EQ(answer.status, 200) << expr << ": " << answer.body;
      const auto j = nlohmann::json::parse(answer.body, nullptr, false);
      EXPECT_EQ(j.value("status", ""), "success") << expr;
      const std::string title = panel["title"].get<std::string>();
      if (title == "Reward and accuracy" || title == "KV cache usage") {
        EXPECT_FALSE(j["data"]["result"].empty()) << expr;
      }
      ++queries;
    }
  }
  EXPECT_GT(queries, 20);
  run->signal(SIGINT);
  EXPECT_EQ(run->wait(seconds(120)), 130) << run->output();
  server.signal(SIGTERM);
  server.wait(seconds(30));
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(seconds(30)), 0) << worker.output();
}

TEST_F(OperateTest, ARunWithMutualTlsAndATokenRefusesStrangersAndTrains) {
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

TEST_F(OperateTest, ServingANonLoopbackAddressNeedsAuthenticationOrInsecure) {
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
