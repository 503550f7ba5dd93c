// `forge-torch`'s command line: every subcommand (the `forge` front end hands it those that need
// torch, front_end.cpp).
#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

int run_cli(int argc, char** argv) {
  CLI::App app{kForgeDescription, "forge"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  std::vector<Command> commands = {
      add_run_command(app),          add_rollout_worker_command(app),
      add_reward_server_command(app), add_grade_command(app),
      add_generate_command(app),     add_model_info_command(app),
      add_sft_command(app),          add_eval_command(app),
      add_distill_command(app),      add_top_command(app),
  };
  for (Command& c : add_data_commands(app)) commands.push_back(std::move(c));
  commands.push_back(add_tokenize_command(app));
  return run_app(app, commands, argc, argv);
}

}  // namespace forge::rl::cli
