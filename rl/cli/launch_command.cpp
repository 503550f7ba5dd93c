// `--nproc N` of `forge run` and `forge sft`: the local launcher behind a subcommand.
#include "rl/cli/commands.h"
#include "rl/dist/local_launcher.h"
#include "rl/orchestrator/child_process.h"

namespace forge::rl::cli {

int launch_ranks(const std::string& name, int nproc, const std::vector<std::string>& args,
                 Logger& logger) {
  absl::StatusOr<int> code = launch_local_ranks(nproc, self_executable(), args, &logger);
  if (!code.ok()) return fail_with_status(name, code.status());
  return *code;
}

}  // namespace forge::rl::cli
