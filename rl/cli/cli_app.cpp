// What every `forge` executable shares: error lines with their exit codes, and parsing a CLI11 app
// of subcommands then running the one picked.
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
  const int code = usage                       ? kExitUsage
                   : absl::IsCancelled(status) ? kExitInterrupted
                                               : kExitFailure;
  return fail(name, std::string(status.message()), code);
}

int not_built(const std::string& name) {
  return fail(name, "not built yet in this version of Forge", kExitNotBuilt);
}

int run_app(CLI::App& app, std::vector<Command>& commands, int argc, char** argv) {
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
