#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

Command add_generate_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("generate", "Sample a completion from the policy");
  app->allow_extras();
  return {app, [] { return not_built("generate"); }};
}

Command add_model_info_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("model-info", "Print the model's sizes as JSON");
  app->allow_extras();
  return {app, [] { return not_built("model-info"); }};
}

}  // namespace forge::rl::cli
