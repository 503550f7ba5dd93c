#include "rl/orchestrator/backends.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "proto/grpc_util.h"
#include "reward/grader.h"
#include "reward/reward_client.h"
#include "rl/policy_loader.h"
#include "rl/service/metrics_endpoint.h"
#include "rollout/local_generation.h"
#include "rollout/pool.h"

namespace forge::rl {

rollout::EngineOptions engine_options(const RolloutSection& r) {
  rollout::EngineOptions o;
  o.max_batch_size = r.max_batch_size;
  o.cache_bytes = r.cache_mb << 20;
  o.max_seq_len = r.max_seq_len;
  o.max_queued = r.max_queued;
  o.max_n = r.max_n;
  o.default_max_new_tokens = r.max_new_tokens;
  return o;
}

absl::StatusOr<StartedGeneration> start_generation(
    Supervisor& supervisor, const RunConfig& config, const RolloutWorkersSpec& workers,
    const ModelSection& model, std::shared_ptr<const policy::Tokenizer> tokenizer) {
  StartedGeneration out;
  if (workers.addresses.empty() && workers.count == 0) {
    ASSIGN_OR_RETURN(LoadedPolicy policy, load_policy(model, config.run.seed, config.run.device));
    absl::StatusOr<std::unique_ptr<rollout::LocalGeneration>> local =
        rollout::LocalGeneration::create(policy.model, std::move(tokenizer),
                                         engine_options(config.rollout));
    if (!local.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("rollout: ", local.status().message()));
    }
    out.generation = *std::move(local);
    return out;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> addresses,
                   start_rollout_workers(supervisor, workers, kChildHealthTimeout));
  rollout::PoolOptions options;
  options.client.timeout = std::chrono::milliseconds(
      static_cast<int64_t>(config.rollout.timeout_s * 1000.0));
  options.max_attempts = config.rollout.max_attempts;
  options.chunk_bytes = int64_t{config.rollout.weight_chunk_mb} << 20;
  ASSIGN_OR_RETURN(std::unique_ptr<rollout::Pool> pool, rollout::Pool::create(addresses, options));
  for (const std::string& a : addresses) out.workers.push_back({a, "rollout"});
  out.generation = std::move(pool);
  return out;
}

absl::StatusOr<StartedGrading> start_grading(Supervisor& supervisor, const RunConfig& config) {
  StartedGrading out;
  if (config.reward.in_process) {
    absl::StatusOr<std::unique_ptr<reward::Grader>> grader =
        reward::Grader::create(reward_config_of(config));
    if (!grader.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("reward: ", grader.status().message()));
    }
    out.grading = *std::move(grader);
    return out;
  }
  std::string address = config.reward.address;
  if (address.empty()) {
    ASSIGN_OR_RETURN(address,
                     supervisor.start_service("reward-server",
                                              {"reward-server", "--config",
                                               config.run.dir + "/config.yaml", kNoChildMetrics},
                                              kChildHealthTimeout));
  } else if (absl::Status st = net::wait_until_healthy(address, std::chrono::seconds(30));
             !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("reward.address: ", st.message()));
  }
  out.workers.push_back({address, "reward"});
  out.grading = std::make_unique<reward::RewardClient>(address);
  return out;
}

}  // namespace forge::rl
