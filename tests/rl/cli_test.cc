// The `forge` binary's dispatch: every DESIGN.md subcommand is listed, unknown subcommands and bad
// options are usage errors, and a config error names the key.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "tests/common/forge_command.h"

namespace {

using Result = forge::test_support::ForgeResult;
using forge::test_support::run_forge;

TEST(Cli, HelpListsEverySubcommandOfTheContract) {
  Result r = run_forge("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"run", "rollout-worker", "reward-server", "grade", "generate",
                           "model-info", "sft", "eval", "distill", "data"}) {
    EXPECT_NE(r.output.find(std::string("  ") + name), std::string::npos)
        << name << " missing from:\n" << r.output;
  }
}

TEST(Cli, UnknownSubcommandIsAUsageError) {
  Result r = run_forge("frobnicate");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("frobnicate"), std::string::npos) << r.output;
}

TEST(Cli, NoSubcommandIsAUsageError) {
  Result r = run_forge("");
  EXPECT_NE(r.exit_code, 0) << r.output;
}

TEST(Cli, DataNeedsAnAction) {
  Result r = run_forge("data");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* name : {"run", "rollout-worker", "reward-server", "grade", "generate",
                           "model-info", "sft", "eval", "distill", "data gen"}) {
    Result r = run_forge(std::string(name) + " --help");
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << name << ": " << r.output;
  }
}

}  // namespace
