#include "rl/orchestrator/rollout_workers.h"

#include "absl/strings/str_cat.h"
#include "proto/grpc_util.h"

namespace forge::rl {

absl::StatusOr<std::vector<std::string>> start_rollout_workers(
    Supervisor& supervisor, int count, const std::vector<std::string>& addresses,
    const std::string& addresses_key, const std::vector<std::string>& worker_args,
    std::chrono::milliseconds health_timeout) {
  if (!addresses.empty()) {
    for (const auto& address : addresses) {
      if (absl::Status st = net::wait_until_healthy(address, std::chrono::seconds(30)); !st.ok()) {
        return absl::Status(st.code(), absl::StrCat(addresses_key, ": ", st.message()));
      }
    }
    return addresses;
  }
  if (count <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no rollout workers: the worker count is 0 and ", addresses_key, " is empty"));
  }
  std::vector<std::string> started;
  std::vector<std::string> args = {"rollout-worker"};
  args.insert(args.end(), worker_args.begin(), worker_args.end());
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<std::string> address =
        supervisor.start_service(absl::StrCat("rollout-worker-", i), args, health_timeout);
    if (!address.ok()) return address.status();
    started.push_back(*address);
  }
  return started;
}

}  // namespace forge::rl
