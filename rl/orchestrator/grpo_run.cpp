#include "rl/orchestrator/grpo_run.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "proto/grpc_util.h"
#include "rl/checkpoint/checkpointer.h"
#include "rl/data/prompt_source.h"
#include "rl/dist/job.h"
#include "rl/metrics/metrics_log.h"
#include "rl/orchestrator/backends.h"
#include "rl/orchestrator/run_inputs.h"
#include "rl/orchestrator/supervisor.h"
#include "rl/policy_loader.h"
#include "rl/service/metrics_endpoint.h"
#include "rl/service/trainer_control.h"
#include "rl/service/trainer_metrics.h"
#include "rl/service/trainer_service.h"
#include "rl/trainer/grpo_trainer.h"
#include "rl/trainer/record_stage.h"

namespace forge::rl {
namespace {

// Serves TrainerService on server.trainer_address (nothing when it is "") and the trainer's
// Prometheus metrics on server.metrics_address (nothing when it is "") while it lives.
class TrainerServer {
 public:
  absl::Status start(const RunConfig& config, const TrainerStatusBoard& board,
                     const MetricsLog& metrics, std::vector<WorkerAddress> workers,
                     TrainerControl& control, const net::Security& security, Logger* logger) {
    register_trainer_metrics(registry_, board, metrics, &control);
    ASSIGN_OR_RETURN(metrics_server_,
                     serve_metrics(config.server.metrics_address, security, registry_));
    if (metrics_server_) {
      log_info(logger, absl::StrCat("metrics on http://",
                                    config.server.metrics_address.substr(
                                        0, config.server.metrics_address.rfind(':')),
                                    ":", metrics_server_->port(), "/metrics"));
    }
    if (config.server.trainer_address.empty()) return absl::OkStatus();
    service_ = std::make_unique<TrainerServiceImpl>(board, metrics, std::move(workers), &control);
    net::ServerOptions options;
    options.security = security;
    auto running = net::start_server(
        config.server.trainer_address,
        {{service_.get(), forge::v1::TrainerService::service_full_name()}}, options);
    if (!running.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("server.trainer_address: ", running.status().message()));
    }
    server_ = std::move(running->server);
    log_info(logger, absl::StrCat("TrainerService on ", config.server.trainer_address, " (port ",
                                  running->port, ")"));
    return absl::OkStatus();
  }

  ~TrainerServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

 private:
  telemetry::Registry registry_;
  std::unique_ptr<telemetry::MetricsServer> metrics_server_;
  std::unique_ptr<TrainerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
};

absl::StatusOr<GrpoRunOutcome> train(const RunConfig& config, Job& job, Supervisor& supervisor,
                                     const GrpoRunOptions& options) {
  Logger* logger = job.logger;
  const std::string resolved = config.run.dir + "/config.yaml";
  const int threads = set_rank_threads(config, job.rank.local_world_size);
  ASSIGN_OR_RETURN(LoadedPolicy policy,
                   load_policy(config.model, config.run.seed, config.run.device));
  if (!policy.load_summary.empty()) {
    log_info(logger, absl::StrCat("model ", policy.checkpoint, ": ", policy.load_summary));
  }
  policy::Model reference{nullptr};
  if (config.trainer.kl_coef > 0) {
    ASSIGN_OR_RETURN(LoadedPolicy ref, load_policy(config.model, config.run.seed,
                                                   config.run.device));
    reference = ref.model;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<policy::Tokenizer> owned_tokenizer,
                   load_tokenizer(config.tokenizer, policy.config));
  const std::shared_ptr<const policy::Tokenizer> tokenizer(std::move(owned_tokenizer));
  ASSIGN_OR_RETURN(std::vector<Example> examples,
                   training_examples(config, logger, job.is_root()));
  ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::create(config.data.template_name));
  ASSIGN_OR_RETURN(PromptSource prompts,
                   PromptSource::create(std::move(examples), chat,
                                        static_cast<uint64_t>(config.run.seed),
                                        config.data.shuffle));
  ResumePoint resume;
  if (options.resume) {
    ASSIGN_OR_RETURN(resume, find_resume_point(config.run.dir, logger));
  }

  ASSIGN_OR_RETURN(StartedGrading grading, start_grading(supervisor, config));
  ASSIGN_OR_RETURN(
      StartedGeneration generation,
      start_generation(supervisor, config,
                       {config.rollout.workers, "rollout.workers", config.rollout.addresses,
                        "rollout.addresses", {"--config", resolved}},
                       config.model, tokenizer));
  std::unique_ptr<MetricsLog> metrics;  // rank 0 writes the run's metrics
  if (job.is_root()) {
    ASSIGN_OR_RETURN(metrics, MetricsLog::open(config.run.dir, resume.step));
    RETURN_IF_ERROR(open_samples_file(config.run.dir, resume.step));
  }

  TrainerStatusBoard board;
  GrpoTrainerDeps deps;
  deps.config = &config;
  deps.policy = policy.model;
  deps.reference = reference;
  deps.tokenizer = tokenizer.get();
  deps.prompts = &prompts;
  deps.generation = generation.generation.get();
  deps.grading = grading.grading.get();
  deps.metrics = metrics.get();
  deps.collective = job.collective.get();
  deps.board = &board;
  deps.logger = logger;
  TrainerControl control;
  deps.stop_requested = [&] { return supervisor.stop_requested() || control.stop_requested(); };
  deps.control = &control;
  deps.children_health = [&] { return supervisor.health(); };
  ASSIGN_OR_RETURN(std::unique_ptr<GrpoTrainer> trainer, GrpoTrainer::create(deps));
  if (resume.checkpoint) {
    if (absl::Status st = trainer->restore(*resume.checkpoint); !st.ok()) {
      return absl::Status(st.code(), absl::StrCat("--resume: ", st.message()));
    }
    log_info(logger, "resumed from " + *resume.checkpoint);
  }

  std::vector<WorkerAddress> workers = grading.workers;
  workers.insert(workers.end(), generation.workers.begin(), generation.workers.end());
  TrainerServer server;
  if (job.is_root()) {
    RETURN_IF_ERROR(
        server.start(config, board, *metrics, workers, control, options.security, logger));
  }
  log_info(logger, absl::StrCat(threads, " torch threads; ",
                                grading.workers.empty() ? "grading in process"
                                                        : "reward server " + workers[0].address,
                                "; ",
                                generation.workers.empty()
                                    ? std::string("generation in process")
                                    : absl::StrCat(generation.workers.size(), " rollout worker(s)")));

  absl::Status status = trainer->run();
  control.close();
  if (metrics) metrics->close();
  if (!status.ok()) return status;
  if (control.stop_requested()) log_info(logger, "stopped by TrainerService.Stop");
  return GrpoRunOutcome{trainer->step(), supervisor.stop_requested() || control.stop_requested(),
                        job.is_root()};
}

}  // namespace

absl::StatusOr<GrpoRunOutcome> run_grpo(const RunConfig& config, const GrpoRunOptions& options) {
  RETURN_IF_ERROR(prepare_run_dir(config));
  ASSIGN_OR_RETURN(Job job, join_job(config, options.logger));
  Supervisor supervisor(job.log_dir(config));
  supervisor.set_on_stop_request([&](int count) {
    if (count == 1) {
      log_warning(job.logger, "stopping after this step (Ctrl-C again to abandon it)");
    } else {
      log_warning(job.logger, "abandoning the step");
      supervisor.stop_all(std::chrono::milliseconds(1000));
    }
  });
  absl::StatusOr<GrpoRunOutcome> outcome = train(config, job, supervisor, options);
  // A failed RPC may be a child that just died: give the supervisor a moment to notice.
  const bool bad_input = absl::IsInvalidArgument(outcome.status()) ||
                         absl::IsNotFound(outcome.status());
  for (int i = 0; i < 20 && !outcome.ok() && !bad_input && supervisor.health().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const absl::Status children = supervisor.health();
  supervisor.stop_all();
  // A dead child explains a failed RPC better than the RPC's own error.
  if (!outcome.ok() && !children.ok()) return children;
  return outcome;
}

}  // namespace forge::rl
