// The `forge` subcommands. Each add_* function declares one subcommand's options on `parent` and
// returns the action to run when the user picked it (the action's result is the exit code).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/logger.h"

namespace CLI {
class App;
}

namespace forge::rl::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// What `forge --help` says Forge is (every executable's CLI::App: forge, forge-serve, forge-torch).
inline constexpr char kForgeDescription[] =
    "Forge: R1-style reasoning RL (MLA + DeepSeekMoE policy, rule-based rewards, GRPO) in C++.";

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (message on stderr)
inline constexpr int kExitUsage = 2;    // bad arguments or config (message names the key)
inline constexpr int kExitNotBuilt = 3; // the subcommand exists in the contract but is not built yet
inline constexpr int kExitInterrupted = 130;  // stopped by SIGINT/SIGTERM (state saved)

// Prints "forge <name>: <message>" on stderr and returns `code`.
int fail(const std::string& name, const std::string& message, int code = kExitFailure);

// fail() with the status's message: bad config values (InvalidArgument) and missing files
// (NotFound) are usage errors (kExitUsage), Cancelled is kExitInterrupted, the rest failures
// (kExitFailure).
int fail_with_status(const std::string& name, const absl::Status& status);

// For a subcommand that is declared but not built yet: one line on stderr, kExitNotBuilt.
int not_built(const std::string& name);

// `--nproc N`: runs `forge <args...>` as N local ranks (rl/dist/local_launcher.h); the ranks'
// exit code, or a failure naming the rank that failed.
int launch_ranks(const std::string& name, int nproc, const std::vector<std::string>& args,
                 Logger& logger);

Command add_run_command(CLI::App& parent);             // run_command.cpp
Command add_rollout_worker_command(CLI::App& parent);  // worker_commands.cpp
Command add_reward_server_command(CLI::App& parent);   // reward_server_command.cpp
Command add_grade_command(CLI::App& parent);           // grade_command.cpp
Command add_generate_command(CLI::App& parent);        // model_commands.cpp
Command add_model_info_command(CLI::App& parent);      // model_commands.cpp
Command add_sft_command(CLI::App& parent);             // recipe_commands.cpp
Command add_eval_command(CLI::App& parent);            // recipe_commands.cpp
Command add_distill_command(CLI::App& parent);         // recipe_commands.cpp
Command add_tokenize_command(CLI::App& parent);        // tokenize_command.cpp
Command add_top_command(CLI::App& parent);             // top_command.cpp
// `forge data <action>`: returns one Command per action (`gen`, ...).
std::vector<Command> add_data_commands(CLI::App& parent);  // recipe_commands.cpp

// Parses `argv` with `app` (whose subcommands `commands` declared) and runs the subcommand picked;
// its exit code. Unknown subcommands and parse errors are kExitUsage.
int run_app(CLI::App& app, std::vector<Command>& commands, int argc, char** argv);

// Entry point of `forge-torch`: every subcommand (cli.cpp).
int run_cli(int argc, char** argv);

// Entry point of `forge`, the front end without gRPC or LibTorch (front_end.cpp).
int run_front_end(int argc, char** argv);

// Entry point of `forge-serve`: reward-server and top, gRPC without LibTorch (serve_cli.cpp).
int run_serve_cli(int argc, char** argv);

}  // namespace forge::rl::cli
