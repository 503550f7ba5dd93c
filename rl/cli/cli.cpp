#include <iostream>

#include <CLI/CLI.hpp>

#include "rl/cli/commands.h"

namespace forge::rl::cli {

int fail(const std::string& name, const std::string& message, int code) {
  std::cerr << "forge " << name << ": " << message << "\n";
  return code;
}

int fail_with_status(const std::string& name, const absl::Status& status) {
  const bool usage = status.code() == absl::StatusCode::kInvalidArgument ||
                     status.code() == absl::StatusCode::kNotFound;
  const int code = usage                 ? kExitUsage
                   : absl::IsCancelled(status) ? kExitInterrupted
                                               : kExitFailure;
  return fail(name, std::string(status.message()), code);
}

int not_built(const std::string& name) {
  return fail(name, "not built yet in this version of Forge", kExitNotBuilt);
}

int run_cli(int argc, char** argv) {
  CLI::App app{
      "Forge: R1-style reasoning RL (MLA + DeepSeekMoE policy, rule-based rewards, GRPO) in C++.",
      "forge"};
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

  // CLI11 reports a stray word as "a subcommand is required"; name it instead.
  const auto known = app.get_subcommands([&](const CLI::App* sub) {
    return argc > 1 && sub->get_name() == argv[1];
  });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    return fail("", std::string("unknown subcommand '") + argv[1] + "' (see forge --help)",
                kExitUsage);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (Command& c : commands) {
    if (c.app->parsed()) {
      try {
        return c.run();
      } catch (const std::exception& e) {
        return fail(c.app->get_name(), std::string("unexpected error: ") + e.what());
      }
    }
  }
  return fail("", "no subcommand given", kExitUsage);
}

}  // namespace forge::rl::cli
