// `forge-serve`'s command line: the subcommands that serve or watch over gRPC and need no LibTorch
// (reward-server, top). The `forge` front end hands them to it (front_end.cpp), so that `forge`
// itself loads no gRPC.
#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

int run_serve_cli(int argc, char** argv) {
  CLI::App app{kForgeDescription, "forge"};
  app.require_subcommand(1);
  std::vector<Command> commands = {add_reward_server_command(app), add_top_command(app)};
  return run_app(app, commands, argc, argv);
}

}  // namespace forge::rl::cli
