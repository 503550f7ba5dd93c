// Operating a real `forge run` on loopback, as an operator would: the control RPCs (pause, save,
// resume, stop) with the trainer's /metrics and `forge top` in a real pseudo-terminal (tmux)
// watching it; the same control of a run of two ranks, paused longer than dist.timeout_s and
// saved while paused; a real Prometheus server (Debian's `prometheus`) scraping a run and a rollout
// worker, read back through its HTTP API. (TLS, tokens and the non-loopback rule:
// operate_security_test.cc.)
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "tests/common/http_get.h"
#include "tests/rl/operate_fixture.h"

namespace {

using namespace forge::test_support::operate;  // NOLINT: the fixture's helpers
using forge::test_support::http_get;
using forge::test_support::processes_with;
using forge::test_support::read_jsonl;
using forge::test_support::sample_value;

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

}  // namespace
