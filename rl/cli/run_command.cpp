// `forge run CONFIG [key=value ...] [--resume]`: the whole R1-Zero loop on one machine. Starts the
// reward server and the rollout workers as child processes on free loopback ports (or uses
// reward.address / rollout.addresses), waits for their health, trains trainer.total_steps with GRPO,
// and stops them. SIGINT/SIGTERM finish the current step, save a checkpoint and stop the children; a
// second one abandons the step (the children are stopped at once) and saves the last completed one.
// Nothing is left running: children die with forge (PR_SET_PDEATHSIG) even if it is killed.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "proto/grpc_util.h"
#include "reward/reward_client.h"
#include "rl/cli/commands.h"
#include "rl/config/run_config.h"
#include "rl/data/prompt_source.h"
#include "rl/metrics/metrics_log.h"
#include "rl/orchestrator/rollout_workers.h"
#include "rl/orchestrator/supervisor.h"
#include "rl/policy_loader.h"
#include "rl/service/trainer_service.h"
#include "rl/trainer/grpo_trainer.h"
#include "rollout/pool.h"

namespace forge::rl::cli {
namespace {

namespace fs = std::filesystem;

constexpr auto kHealthTimeout = std::chrono::seconds(120);
constexpr int kExitInterrupted = 130;

int run_training(const std::string& config_path, const std::vector<std::string>& overrides,
                 bool resume) {
  const char* name = "run";
  absl::StatusOr<RunConfig> loaded_config = RunConfig::load(config_path, overrides);
  if (!loaded_config.ok()) return fail(name, std::string(loaded_config.status().message()), kExitUsage);
  const RunConfig& config = *loaded_config;
  if (config.data.train.empty()) {
    return fail(name, absl::StrCat(config_path, ": data.train: a training dataset is required"),
                kExitUsage);
  }
  std::error_code ec;
  fs::create_directories(config.run.dir, ec);
  if (ec) return fail(name, absl::StrCat("run.dir: cannot create '", config.run.dir, "': ", ec.message()));
  // Children read the resolved config (absolute paths), so they see exactly what the trainer sees.
  const std::string resolved = config.run.dir + "/config.yaml";
  if (absl::Status st = write_file_atomic(resolved, config.to_yaml()); !st.ok()) {
    return fail(name, std::string(st.message()));
  }

  const int threads = set_torch_threads(config.run.threads);
  absl::StatusOr<LoadedPolicy> policy = load_policy(config.model, config.run.seed, config.run.device);
  if (!policy.ok()) return fail(name, std::string(policy.status().message()), kExitUsage);
  policy::Model reference{nullptr};
  if (config.trainer.kl_coef > 0) {
    absl::StatusOr<LoadedPolicy> ref = load_policy(config.model, config.run.seed, config.run.device);
    if (!ref.ok()) return fail(name, std::string(ref.status().message()), kExitUsage);
    reference = ref->model;
  }
  absl::StatusOr<std::unique_ptr<policy::Tokenizer>> tokenizer =
      load_tokenizer(config.tokenizer, policy->config);
  if (!tokenizer.ok()) return fail(name, std::string(tokenizer.status().message()), kExitUsage);
  absl::StatusOr<PromptSource> prompts = PromptSource::from_config(config.data, config.run.seed);
  if (!prompts.ok()) return fail(name, std::string(prompts.status().message()), kExitUsage);

  std::optional<std::string> checkpoint;
  if (resume) {
    std::vector<std::string> skipped;
    checkpoint = Checkpointer(config.run.dir + "/checkpoints", 1).newest_valid(&skipped);
    for (const auto& s : skipped) std::cerr << "forge run: skipping invalid checkpoint: " << s << "\n";
    if (!checkpoint) std::cerr << "forge run: --resume: no checkpoint in " << config.run.dir
                               << "/checkpoints; starting from step 0\n";
  }

  Supervisor supervisor(config.run.dir + "/logs");
  supervisor.set_on_stop_request([&](int count) {
    if (count == 1) {
      std::cerr << "\nforge run: stopping after this step (Ctrl-C again to abandon it)\n";
    } else {
      std::cerr << "\nforge run: abandoning the step\n";
      supervisor.stop_all(std::chrono::milliseconds(1000));
    }
  });

  std::vector<WorkerAddress> workers;
  std::string reward_address = config.reward.address;
  if (reward_address.empty()) {
    auto started = supervisor.start_service("reward-server", {"reward-server", "--config", resolved},
                                            kHealthTimeout);
    if (!started.ok()) return fail(name, std::string(started.status().message()));
    reward_address = *started;
  } else if (absl::Status st = net::wait_until_healthy(reward_address, std::chrono::seconds(30));
             !st.ok()) {
    return fail(name, absl::StrCat("reward.address: ", st.message()));
  }
  workers.push_back({reward_address, "reward"});

  absl::StatusOr<std::vector<std::string>> started_workers = start_rollout_workers(
      supervisor,
      {config.rollout.workers, "rollout.workers", config.rollout.addresses, "rollout.addresses",
       {"--config", resolved}},
      kHealthTimeout);
  if (!started_workers.ok()) {
    const bool usage = started_workers.status().code() == absl::StatusCode::kInvalidArgument;
    return fail(name, std::string(started_workers.status().message()),
                usage ? kExitUsage : kExitFailure);
  }
  const std::vector<std::string> rollout_addresses = *std::move(started_workers);
  for (const auto& a : rollout_addresses) workers.push_back({a, "rollout"});

  absl::StatusOr<std::unique_ptr<rollout::Pool>> pool = rollout::Pool::create(rollout_addresses);
  if (!pool.ok()) return fail(name, std::string(pool.status().message()));
  reward::RewardClient reward(reward_address);

  const int64_t resume_step = checkpoint ? Checkpointer::read_state(*checkpoint).value_or(
                                                TrainingState{}).step
                                          : -1;
  absl::StatusOr<std::unique_ptr<MetricsLog>> metrics = MetricsLog::open(config.run.dir, resume_step);
  if (!metrics.ok()) return fail(name, std::string(metrics.status().message()));

  TrainerStatusBoard board;
  GrpoTrainerDeps deps;
  deps.config = &config;
  deps.policy = policy->model;
  deps.reference = reference;
  deps.tokenizer = tokenizer->get();
  deps.prompts = &*prompts;
  deps.rollout = pool->get();
  deps.reward = &reward;
  deps.metrics = metrics->get();
  deps.board = &board;
  deps.stop_requested = [&] { return supervisor.stop_requested(); };
  deps.children_health = [&] { return supervisor.health(); };
  absl::StatusOr<std::unique_ptr<GrpoTrainer>> trainer = GrpoTrainer::create(deps);
  if (!trainer.ok()) return fail(name, std::string(trainer.status().message()), kExitUsage);
  if (checkpoint) {
    if (absl::Status st = (*trainer)->restore(*checkpoint); !st.ok()) {
      return fail(name, absl::StrCat("--resume: ", st.message()));
    }
    std::cout << "forge run: resumed from " << *checkpoint << "\n";
  }

  // The dashboard service, when asked for.
  std::unique_ptr<TrainerServiceImpl> service;
  std::unique_ptr<grpc::Server> server;
  if (!config.server.trainer_address.empty()) {
    service = std::make_unique<TrainerServiceImpl>(board, **metrics, workers);
    auto running = net::start_server(
        config.server.trainer_address,
        {{service.get(), forge::v1::TrainerService::service_full_name()}});
    if (!running.ok()) {
      return fail(name, absl::StrCat("server.trainer_address: ", running.status().message()));
    }
    server = std::move(running->server);
    std::cout << "forge run: TrainerService on " << config.server.trainer_address << " (port "
              << running->port << ")\n";
  }
  std::cout << "forge run: " << threads << " torch threads; reward server " << reward_address
            << "; " << rollout_addresses.size() << " rollout worker(s)\n";

  absl::Status status = (*trainer)->run();
  (*metrics)->close();
  if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  // A failed RPC may be a child that just died: give the supervisor a moment to notice.
  for (int i = 0; i < 20 && !status.ok() && supervisor.health().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const absl::Status children = supervisor.health();
  supervisor.stop_all();
  if (!status.ok()) {
    // A dead child explains a failed RPC better than the RPC's own error.
    if (!children.ok()) return fail(name, std::string(children.message()));
    return fail(name, std::string(status.message()));
  }
  if (supervisor.stop_requested()) {
    std::cout << "forge run: stopped at step " << (*trainer)->step() << "; checkpoint saved in "
              << config.run.dir << "/checkpoints\n";
    return kExitInterrupted;
  }
  std::cout << "forge run: finished " << (*trainer)->step() << " steps; metrics in "
            << config.run.dir << "/metrics.jsonl\n";
  return kExitOk;
}

}  // namespace

Command add_run_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand(
      "run", "Train: reward server + rollout workers + GRPO trainer, end to end");
  auto config = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto resume = std::make_shared<bool>(false);
  app->add_option("config", *config, "Run config (YAML), e.g. configs/tiny.yaml")->required();
  app->add_option("overrides", *overrides, "Dotted overrides: trainer.total_steps=4 run.dir=runs/x");
  app->add_flag("--resume", *resume, "Continue from the newest valid checkpoint in run.dir");
  return {app, [=] { return run_training(*config, *overrides, *resume); }};
}

}  // namespace forge::rl::cli
