// The `forge` executable's command line, without LibTorch: it runs grade, reward-server and top
// itself and lists every subcommand in --help; any other subcommand (and --help-all) is handed to
// `forge-torch`, the executable beside it, by exec: same pid, same arguments, with
// FORGE_EXECUTABLE naming this front end (the children `forge run` starts go through it too) and,
// for the long torch subcommands, the idle-thread settings already in the environment
// (base/idle_threads.h), so forge-torch need not re-exec itself for them.
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

int exec_torch(char** argv, bool runs_torch_for_long) {
  const std::string self = self_path();
  const std::string torch = self.substr(0, self.rfind('/') + 1) + "forge-torch";
  ::setenv("FORGE_EXECUTABLE", self.c_str(), /*overwrite=*/0);
  if (runs_torch_for_long) set_idle_thread_env();
  ::execv(torch.c_str(), argv);
  return fail("", "cannot run " + torch + ": " + std::strerror(errno), kExitFailure);
}

}  // namespace

int run_front_end(int argc, char** argv) {
  if (argc > 1) {
    const std::string first = argv[1];
    const SubcommandInfo* info = find_subcommand(first);
    if (info != nullptr && info->needs_torch) return exec_torch(argv, info->runs_torch_for_long);
    if (first == "--help-all") return exec_torch(argv, false);
  }
  CLI::App app{
      "Forge: R1-style reasoning RL (MLA + DeepSeekMoE policy, rule-based rewards, GRPO) in C++.",
      "forge"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  std::vector<Command> commands;
  for (const SubcommandInfo& s : subcommands()) {
    const std::string name = s.name;
    if (name == "grade") {
      commands.push_back(add_grade_command(app));
    } else if (name == "reward-server") {
      commands.push_back(add_reward_server_command(app));
    } else if (name == "top") {
      commands.push_back(add_top_command(app));
    } else {
      app.add_subcommand(s.name, s.description);  // listed here, parsed by forge-torch
    }
  }
  return run_app(app, commands, argc, argv);
}

}  // namespace forge::rl::cli
