// The `forge` executable's command line, without gRPC or LibTorch: it runs grade itself and lists
// every subcommand in --help; reward-server and top are handed to `forge-serve`, every other
// subcommand (and --help-all) to `forge-torch` (subcommands.h), the executables beside it, by
// exec: same pid, same arguments, with FORGE_EXECUTABLE naming this front end (the children
// `forge run` starts go through it too) and, for the long torch subcommands, the idle-thread
// settings already in the environment (base/idle_threads.h), so forge-torch need not re-exec
// itself for them.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>

#include "base/idle_threads.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"

namespace forge::rl::cli {
namespace {

std::string self_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Runs `executable`, the sibling of this one, in this process with `argv`; returns only on failure.
int exec_sibling(const char* executable, char** argv, bool runs_torch_for_long) {
  const std::string self = self_path();
  const std::string sibling = self.substr(0, self.rfind('/') + 1) + executable;
  ::setenv("FORGE_EXECUTABLE", self.c_str(), /*overwrite=*/0);
  if (runs_torch_for_long) set_idle_thread_env();
  ::execv(sibling.c_str(), argv);
  return fail("", "cannot run " + sibling + ": " + std::strerror(errno), kExitFailure);
}

}  // namespace

int run_front_end(int argc, char** argv) {
  if (argc > 1) {
    const std::string first = argv[1];
    const SubcommandInfo* info = find_subcommand(first);
    if (info != nullptr && info->runner != Runner::kFrontEnd) {
      return exec_sibling(info->runner == Runner::kServe ? "forge-serve" : "forge-torch", argv,
                          info->runs_torch_for_long);
    }
    if (first == "--help-all") return exec_sibling("forge-torch", argv, false);
  }
  CLI::App app{kForgeDescription, "forge"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  std::vector<Command> commands;
  for (const SubcommandInfo& s : subcommands()) {
    if (std::strcmp(s.name, "grade") == 0) {
      commands.push_back(add_grade_command(app));  // the one subcommand it runs itself
    } else {
      app.add_subcommand(s.name, s.description);  // listed here, run by forge-serve or forge-torch
    }
  }
  return run_app(app, commands, argc, argv);
}

}  // namespace forge::rl::cli
