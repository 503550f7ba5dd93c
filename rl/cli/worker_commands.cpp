// `forge rollout-worker --listen (HOST:PORT | unix:PATH) (--config CONFIG | --checkpoint DIR) [key=value ...]`:
// the policy (rl/policy_loader) behind a rollout::Engine served over gRPC until SIGINT/SIGTERM.
// The run config's `rollout` section sizes the engine (max_batch_size, cache_mb, max_seq_len,
// max_queued, max_n, max_new_tokens as the default), `run.threads` sets torch's intra-op threads
// and `run.device` the device. With --checkpoint alone, every other setting is a default.
#include <chrono>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"
#include "rl/cli/serve_until_signal.h"
#include "rl/cli/server_flags.h"
#include "rl/config/run_config.h"
#include "rl/orchestrator/backends.h"
#include "rl/policy_loader.h"
#include "rollout/engine.h"
#include "rollout/worker_server.h"

namespace forge::rl::cli {
namespace {

int run_rollout_worker(const std::string& listen, const std::string& config_path,
                       const std::string& checkpoint, const std::vector<std::string>& overrides,
                       const ServerFlags& flags) {
  const char* name = "rollout-worker";
  StopSignal signal;  // before any server or engine thread exists
  if (config_path.empty() == checkpoint.empty()) {
    return fail(name, "give exactly one of --config CONFIG and --checkpoint DIR", kExitUsage);
  }
  absl::StatusOr<RunConfig> config = RunConfig::load(config_path, overrides);
  if (!config.ok()) return fail(name, std::string(config.status().message()), kExitUsage);
  if (!checkpoint.empty()) config->model.checkpoint = checkpoint;
  absl::StatusOr<net::Security> security = setup_serving(name, flags, *config, {listen});
  if (!security.ok()) return fail(name, std::string(security.status().message()), kExitUsage);

  const int threads = set_torch_threads(config->run.threads);
  absl::StatusOr<LoadedPolicy> loaded = load_policy(config->model, config->run.seed, config->run.device);
  if (!loaded.ok()) return fail_with_status(name, loaded.status());
  absl::StatusOr<std::unique_ptr<policy::Tokenizer>> tokenizer =
      load_tokenizer(config->tokenizer, loaded->config);
  if (!tokenizer.ok()) return fail_with_status(name, tokenizer.status());

  absl::StatusOr<std::unique_ptr<rollout::Engine>> engine = rollout::Engine::create(
      loaded->model, std::shared_ptr<const policy::Tokenizer>(std::move(tokenizer).value()),
      engine_options(config->rollout));
  if (!engine.ok()) {
    return fail(name, absl::StrCat("rollout: ", engine.status().message()), kExitUsage);
  }
  const rollout::EngineStats stats = (*engine)->stats();
  absl::StatusOr<std::unique_ptr<rollout::RolloutWorker>> worker =
      rollout::RolloutWorker::start(listen, std::move(engine).value(), *security);
  if (!worker.ok()) return fail(name, std::string(worker.status().message()));
  absl::StatusOr<std::unique_ptr<telemetry::MetricsServer>> metrics =
      start_metrics(name, *config, *security, (*worker)->engine().metrics());
  if (!metrics.ok()) return fail(name, std::string(metrics.status().message()), kExitUsage);
  const std::string served = absl::StartsWith(listen, "unix:")
      ? listen
      : absl::StrCat(listen.substr(0, listen.rfind(':')), ":", (*worker)->port());
  std::cout << "forge rollout-worker: listening on " << served
            << " (weights " << (loaded->checkpoint.empty() ? "from run.seed" : loaded->checkpoint)
            << ", policy version " << stats.policy_version << ", " << stats.cache_slots
            << " cache slots x " << stats.max_seq_len << " tokens, " << threads << " threads, "
            << stats.device << ")" << std::endl;

  return serve_until_signal(signal, name, [&] {
    (*worker)->shutdown(std::chrono::seconds(5));
    (*worker)->wait();
    metrics->reset();
    worker->reset();
  });
}

}  // namespace

Command add_rollout_worker_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("rollout-worker",
                                        description_of("rollout-worker"));
  auto listen = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto checkpoint = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto flags = std::make_shared<ServerFlags>();
  app->add_option("--listen", *listen, "HOST:PORT to serve on (port 0: any free port), or unix:PATH (a Unix socket)")->required();
  app->add_option("--config", *config, "run config YAML (model, tokenizer, rollout, run sections)");
  app->add_option("--checkpoint", *checkpoint, "checkpoint folder (config.json + safetensors)");
  app->add_option("overrides", *overrides, "config overrides key=value (rollout.max_batch_size=32)");
  add_server_flags(app, *flags);
  return {app,
          [=] { return run_rollout_worker(*listen, *config, *checkpoint, *overrides, *flags); }};
}

}  // namespace forge::rl::cli
