#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

Command add_run_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("run", "Train: reward server + rollout workers + GRPO trainer, end to end");
  app->allow_extras();
  return {app, [] { return not_built("run"); }};
}

}  // namespace forge::rl::cli
