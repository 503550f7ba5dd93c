#include "rl/orchestrator/rollout_workers.h"

#include "absl/strings/str_cat.h"
#include "proto/grpc_util.h"
#include "rl/service/metrics_endpoint.h"

namespace forge::rl {

absl::StatusOr<std::vector<std::string>> start_rollout_workers(
    Supervisor& supervisor, const RolloutWorkersSpec& spec,
    std::chrono::milliseconds health_timeout) {
  if (!spec.addresses.empty()) {
    for (const auto& address : spec.addresses) {
      if (absl::Status st = net::wait_until_healthy(address, std::chrono::seconds(30)); !st.ok()) {
        return absl::Status(st.code(), absl::StrCat(spec.addresses_key, ": ", st.message()));
      }
    }
    return spec.addresses;
  }
  if (spec.count <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(spec.count_key, " is 0 and ", spec.addresses_key,
                                                   " is empty: no rollout workers"));
  }
  std::vector<std::string> started;
  std::vector<std::string> args = {"rollout-worker"};
  args.insert(args.end(), spec.worker_args.begin(), spec.worker_args.end());
  args.push_back(kNoChildMetrics);
  for (int i = 0; i < spec.count; ++i) {
    absl::StatusOr<std::string> address =
        supervisor.start_service(absl::StrCat("rollout-worker-", i), args, health_timeout,
                                 Supervisor::Listen::kUnixSocket);
    if (!address.ok()) return address.status();
    started.push_back(*address);
  }
  return started;
}

}  // namespace forge::rl
