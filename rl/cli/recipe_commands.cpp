#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

Command add_sft_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("sft", "Supervised fine-tuning on chain-of-thought data");
  app->allow_extras();
  return {app, [] { return not_built("sft"); }};
}

Command add_eval_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("eval", "Evaluate a checkpoint: greedy, pass@1, pass@k, maj@k, format rate");
  app->allow_extras();
  return {app, [] { return not_built("eval"); }};
}

Command add_distill_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("distill", "Rejection-sample a teacher and SFT a smaller student on its accepted answers");
  app->allow_extras();
  return {app, [] { return not_built("distill"); }};
}

std::vector<Command> add_data_commands(CLI::App& parent) {
  CLI::App* data = parent.add_subcommand("data", "Datasets: generate synthetic reasoning tasks");
  data->require_subcommand(1);
  CLI::App* gen = data->add_subcommand("gen", "Generate a synthetic task dataset as JSONL");
  gen->allow_extras();
  return {{gen, [] { return not_built("data gen"); }}};
}

}  // namespace forge::rl::cli
