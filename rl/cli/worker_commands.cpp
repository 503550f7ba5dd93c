#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

Command add_rollout_worker_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("rollout-worker", "Serve RolloutService (generation, weight updates) over gRPC");
  app->allow_extras();
  return {app, [] { return not_built("rollout-worker"); }};
}

}  // namespace forge::rl::cli
