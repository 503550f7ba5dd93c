#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

Command add_reward_server_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("reward-server", "Serve RewardService (rule-based grading) over gRPC");
  app->allow_extras();
  return {app, [] { return not_built("reward-server"); }};
}

Command add_grade_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("grade", "Grade a JSONL file of completions with the reward rules");
  app->allow_extras();
  return {app, [] { return not_built("grade"); }};
}

}  // namespace forge::rl::cli
